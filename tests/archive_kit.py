"""Building blocks for tests that run a whole instance: settings, documents, submissions."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from dangan.bootstrap import Container, bootstrap
from dangan.instance.lifecycle import initialise
from dangan.ledger.models import LedgerEntry
from dangan.policy.decision import Subject
from dangan.records import services as records
from dangan.records.domain import IncomingFile, Submission
from dangan.records.models import Record
from dangan.records.receipts import Receipt
from dangan.records.verification import RecordVerification
from dangan.settings import Settings, load_settings
from dangan.usecase import Actor

# Whoever runs a command on the server: Dangan itself, "cli" on the ledger.
OPERATOR = Actor.internal("cli")

NOTICE = {
    "title": "关于开展安全生产大检查的通知",
    "author": "示范省应急管理厅",
    "date": "2024-03-05",
    "security_classification": "公开",
    "document_type": "通知",
    "department": "办公室",
}
UNCLASSIFIABLE = {
    "title": "杂项材料汇编",
    "author": "某单位",
    "date": "2024-03-05",
    "security_classification": "公开",
    "document_type": "其他",
}


def make_settings(data_dir: Path, db_url: str, **extra: Any) -> Settings:
    return load_settings(data_dir=data_dir, database_url=db_url, **extra)


def new_instance(data_dir: Path, db_url: str, **extra: Any) -> Container:
    settings = make_settings(data_dir, db_url, **extra)
    initialise(settings)
    return bootstrap(settings)


def write_doc(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(body, encoding="utf-8")
    return path


def notice(folder: Path, n: int, **meta: Any) -> Submission:
    """A classifiable notice with its own text (so its digest differs from the others)."""
    title = meta.pop("title", f"{NOTICE['title']}（第{n}号）")
    path = write_doc(folder, f"notice-{n}.txt", f"{title}\n各有关单位：请认真开展安全生产检查。{n}")
    return Submission(
        "oa", f"OA-{n}", {**NOTICE, "title": title, **meta}, [IncomingFile(path, path.name)]
    )


def sm3_hex(path: Path) -> str:
    from cryptography.hazmat.primitives import hashes

    h = hashes.Hash(hashes.SM3())
    h.update(path.read_bytes())
    return h.finalize().hex()


def sha256_hex(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def counts(c: Container) -> tuple[int, int]:
    """(records, ledger entries): what "nothing was written" is checked against."""
    with c.sessions() as s:
        return (
            s.scalar(select(func.count()).select_from(Record)) or 0,
            s.scalar(select(func.count()).select_from(LedgerEntry)) or 0,
        )


def stored_objects(c: Container) -> int:
    """Object directories on every root, complete or not."""
    return sum(len(r.list_objects()) + len(r.incomplete_objects()) for r in c.roots)


# --- the archive's use cases, called as the test's actors ---------------------------------


def submitter(sub: Submission) -> Actor:
    """The business system a submission comes from, with a submit token."""
    return Actor.system(sub.source_system, {"submit"})


def archivist(name: str = "张档案", clearance: str = "绝密") -> Actor:
    """A person holding the archivist role (the policy needs no account row)."""
    return Actor.person(
        Subject(user_id=None, roles=frozenset({"archivist"}), clearance=clearance, username=name)
    )


def ingest(c: Container, sub: Submission) -> Receipt:
    return records.archive_submission(c, submitter(sub), sub)


def verify(c: Container, ref: str) -> RecordVerification:
    return records.verify_record(c, OPERATOR, ref)


def find(c: Container, q: str, limit: int = 20) -> dict[str, Any]:
    return records.search(c, OPERATOR, q, limit)
