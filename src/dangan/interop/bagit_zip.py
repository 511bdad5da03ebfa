"""Read a zipped BagIt bag (RFC 8493) into a `Submission`, safely.

Three steps, each in its own module with its decisions:
1. `zip_extract`: extraction is our own, entry by entry (never `extractall`); every name is
   checked, symlinks, special files, encryption and other compression methods are refused,
   and limits are checked on the declared sizes and again on the bytes actually written;
2. `bagit_validate`: the zip holds one bag (`bagit.txt` at the top, or inside the only
   top-level folder; `__MACOSX/` entries are skipped), a sha256 or sha512 payload manifest
   is required, and `bagit.Bag(...).validate()` checks the manifests;
3. `bagit_submission`: metadata from an envelope `metadata.json` or else from bag-info.txt,
   the payload files with the digests the bag declares (SM3 from `manifest-sm3.txt`), and
   the source system and id.
Files stay where they were extracted, under `work_dir/bag/`; on error `work_dir` is emptied.
"""

from __future__ import annotations

from pathlib import Path

from dangan.interop.bagit_submission import submission_from_bag
from dangan.interop.bagit_validate import find_bag, validate_bag
from dangan.interop.limits import DEFAULT_LIMITS, PackageLimits
from dangan.interop.safety import read_in_work_dir
from dangan.interop.zip_extract import extract_zip
from dangan.records.domain import Submission

__all__ = ["BAG_DIR", "read_bagit_zip"]

BAG_DIR = "bag"


def read_bagit_zip(
    zip_path: Path,
    work_dir: Path,
    *,
    source_system: str,
    source_id: str | None = None,
    limits: PackageLimits = DEFAULT_LIMITS,
) -> Submission:
    """Extract and validate a zipped bag under `work_dir/bag` (must be empty) → Submission.

    Raises `InvalidInputError`; on error nothing is left in `work_dir`.
    """
    return read_in_work_dir(
        work_dir, lambda work: _read(zip_path, work, source_system, source_id, limits)
    )


def _read(
    zip_path: Path, work: Path, source_system: str, source_id: str | None, limits: PackageLimits
) -> Submission:
    root = work / BAG_DIR
    root.mkdir()
    extract_zip(zip_path, root, limits)
    bag_dir = find_bag(root)
    bag = validate_bag(bag_dir)
    return submission_from_bag(bag, bag_dir, source_system, source_id)
