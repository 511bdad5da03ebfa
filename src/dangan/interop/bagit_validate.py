"""Finding the bag in an extracted zip and validating it (RFC 8493) with `bagit`.

The zip holds one bag: `bagit.txt` at the top, or inside the only top-level folder. A payload
manifest for sha256 or sha512 is required (`missing_manifest`), and bags that need files
fetched (fetch.txt) are refused. `bagit.Bag(...).validate()` checks the manifests; each file
it finds wrong becomes one problem, all reported at once. Payload-Oxum is checked last, so a
wrong file gets its specific problem first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bagit

from dangan.core.errors import InvalidInputError, Problem, invalid
from dangan.interop.zip_extract import SKIP_PREFIX


def find_bag(root: Path) -> Path:
    if (root / "bagit.txt").is_file():
        return root
    tops = [p for p in root.iterdir() if p.name != SKIP_PREFIX.rstrip("/")]
    if len(tops) == 1 and tops[0].is_dir() and (tops[0] / "bagit.txt").is_file():
        return tops[0]
    raise invalid(
        "zip",
        "not_a_bag",
        "压缩包顶层或唯一的顶层文件夹中没有 bagit.txt",
        "no bagit.txt at the top of the zip or in its only top-level folder",
    )


def validate_bag(bag_dir: Path) -> Any:
    """The validated `bagit.Bag`; manifest problems reported all at once."""
    if not any((bag_dir / f"manifest-{alg}.txt").is_file() for alg in ("sha256", "sha512")):
        raise invalid(
            "manifest",
            "missing_manifest",
            "袋中须有 manifest-sha256.txt 或 manifest-sha512.txt",
            "the bag needs manifest-sha256.txt or manifest-sha512.txt",
        )
    fetch = bag_dir / "fetch.txt"
    if fetch.is_file() and fetch.read_bytes().strip():
        raise invalid(
            "fetch.txt",
            "unsupported_bag",
            "不接收需要下载文件的袋（fetch.txt）",
            "bags that need files fetched (fetch.txt) are not accepted",
        )
    try:
        bag = bagit.Bag(str(bag_dir))
        # Payload-Oxum is checked last, so a wrong file gets its specific problem first.
        oxum = bag.info.pop("Payload-Oxum", None)
        bag.validate(processes=1)
    except bagit.BagValidationError as exc:
        problems = [_detail_problem(d) for d in exc.details]
        if not problems:
            problems = [Problem("bag", "invalid_bag", f"袋无效：{exc}", f"invalid bag: {exc}")]
        raise InvalidInputError.of(problems) from None
    except bagit.BagError as exc:
        code = "unsafe_path" if "is unsafe" in str(exc) else "invalid_bag"
        raise invalid("bag", code, f"袋无效：{exc}", f"invalid bag: {exc}") from None
    except (UnicodeError, ValueError, OSError) as exc:
        raise invalid("bag", "invalid_bag", f"袋无效：{exc}", f"invalid bag: {exc}") from None
    _check_oxum(oxum, bag_dir)
    return bag


def _check_oxum(oxum: object, bag_dir: Path) -> None:
    if isinstance(oxum, list):
        oxum = oxum[0] if oxum else None
    if oxum is None:
        return
    payload = [p for p in (bag_dir / "data").rglob("*") if p.is_file()]
    found = f"{sum(p.stat().st_size for p in payload)}.{len(payload)}"
    if str(oxum).strip() != found:
        raise invalid(
            "bag-info.txt",
            "oxum_mismatch",
            f"Payload-Oxum 为 {oxum}，实际为 {found}（字节数.文件数）",
            f"Payload-Oxum is {oxum} but the payload is {found} (bytes.files)",
        )


def _detail_problem(detail: Any) -> Problem:
    path = str(getattr(detail, "path", "bag"))
    if isinstance(detail, bagit.ChecksumMismatch):
        return Problem(
            path,
            "digest_mismatch",
            f"{path} 的 {detail.algorithm} 摘要与清单不符",
            f"the {detail.algorithm} digest of {path} does not match the manifest",
        )
    if isinstance(detail, bagit.FileMissing):
        return Problem(
            path,
            "file_missing",
            f"清单列出的 {path} 不存在",
            f"{path} is in the manifest but missing",
        )
    if isinstance(detail, bagit.UnexpectedFile):
        return Problem(
            path,
            "not_in_manifest",
            f"{path} 不在清单中",
            f"{path} is not listed in the manifest",
        )
    return Problem(path, "invalid_bag", f"袋无效：{detail}", f"invalid bag: {detail}")
