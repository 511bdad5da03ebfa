"""The project's own sample government documents for demos and tests (no outside data).

Documents are built from templates with random agencies, departments and topics
(`sample_docs`), and written as PDF (reportlab, built-in CID font STSong-Light, which pypdf
extracts back), DOCX, UTF-8 TXT (`sample_writers`) and OFD (a minimal package written here,
`sample_ofd`). Output is deterministic for a given seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dangan.content.sample_docs import DOC_TYPES, SampleDoc, compose
from dangan.content.sample_ofd import write_ofd
from dangan.content.sample_writers import write_docx, write_pdf, write_txt
from dangan.core.errors import invalid

__all__ = ["DOC_TYPES", "FORMATS", "SampleDoc", "generate_samples"]

FORMATS = ("pdf", "docx", "ofd", "txt")

# Each writer returns the page count; OFD draws its document id from the same generator.
_WRITERS: dict[str, Callable[[SampleDoc, Path, random.Random], int]] = {
    "pdf": lambda doc, path, _rng: write_pdf(doc, path),
    "docx": lambda doc, path, _rng: write_docx(doc, path),
    "ofd": write_ofd,
    "txt": lambda doc, path, _rng: write_txt(doc, path),
}


def generate_samples(
    out_dir: str | Path, n: int, seed: int = 0, formats: tuple[str, ...] = FORMATS
) -> list[tuple[Path, dict[str, Any]]]:
    """Write `n` sample documents (formats in rotation) and return (path, metadata) pairs."""
    unknown = [f for f in formats if f not in _WRITERS]
    if unknown:
        raise invalid(
            "formats",
            "unknown_sample_format",
            f"未知的样例格式：{', '.join(unknown)}（可用 {', '.join(FORMATS)}）",
            f"unknown sample format: {', '.join(unknown)} (known: {', '.join(FORMATS)})",
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    result: list[tuple[Path, dict[str, Any]]] = []
    for i in range(n):
        doc = compose(rng)
        ext = formats[i % len(formats)]
        path = out / f"sample_{i + 1:04d}_{doc.doc_type}.{ext}"
        pages = _WRITERS[ext](doc, path, rng)
        metadata: dict[str, Any] = {
            "title": doc.title,
            "document_number": doc.number,
            "author": doc.agency,
            "date": doc.when.isoformat(),
            "document_type": doc.doc_type,
            "security_classification": "公开",
            "department": doc.department,
            "keywords": doc.keywords,
            "pages": pages,
        }
        result.append((path, metadata))
    return result
