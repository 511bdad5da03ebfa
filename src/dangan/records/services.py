"""The archive's use cases — every action on records, whoever asks (HTTP, CLI, jobs).

Each takes the dependencies (`RecordsDeps`) and the `Actor`, asks the policy, and records
its ledger event in the same transaction as its effect (see `dangan.usecase`).
"""

from dangan.records.archiving import archive_submission
from dangan.records.browsing import browse, list_queue
from dangan.records.download import download
from dangan.records.editing import edit_record
from dangan.records.review import confirm
from dangan.records.searching import search
from dangan.records.verification import verify_record
from dangan.records.viewing import get_metadata, history, proof

__all__ = [
    "archive_submission",
    "browse",
    "confirm",
    "download",
    "edit_record",
    "get_metadata",
    "history",
    "list_queue",
    "proof",
    "search",
    "verify_record",
]
