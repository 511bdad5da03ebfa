"""Demo data: the project's own generated documents, or the real corpus when pointed at it.

Both paths go through intake's `submit`, exactly as a business system's documents would,
each as its own business system ("demo-oa", "corpus").
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from dangan.content.samples import generate_samples
from dangan.core.errors import DanganError
from dangan.intake.ports import IntakeDeps
from dangan.intake.services import submit
from dangan.records.domain import IncomingFile, Submission
from dangan.records.models import Record
from dangan.usecase import Actor

CORPUS_FILES = ("gccmpd_mee", "hebei_gov", "gccmpd_govcn", "gov_work_reports", "lawrefbook_laws")
DOC_TYPES = {
    "决议",
    "决定",
    "命令",
    "公报",
    "公告",
    "通告",
    "意见",
    "通知",
    "通报",
    "报告",
    "请示",
    "批复",
    "议案",
    "函",
    "纪要",
    "规章",
    "规范性文件",
    "法规",
    "法律",
    "司法解释",
    "其他",
}


@dataclass
class LoadReport:
    archived: int = 0
    queued: int = 0
    rejected: list[str] = field(default_factory=list)
    skipped: int = 0


def corpus_documents(corpus: Path, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """Full-text documents from ../shared/data/corpus (*.jsonl.gz), source by source."""
    n = 0
    for name in CORPUS_FILES:
        path = corpus / f"{name}.jsonl.gz"
        if not path.exists():
            continue
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                doc = json.loads(line)
                if not doc.get("text"):
                    continue
                yield doc
                n += 1
                if limit is not None and n >= limit:
                    return


def corpus_metadata(doc: dict[str, Any]) -> dict[str, Any] | None:
    """Map a corpus document onto DA/T 46 keys; None when its date is not a full date."""
    date = str(doc.get("date") or "")
    if len(date) != 10:
        return None
    meta: dict[str, Any] = {
        "title": doc["title"].strip(),
        "author": doc.get("org") or "未知",
        "date": date,
        "security_classification": "公开",
    }
    if doc.get("doc_number"):
        meta["document_number"] = doc["doc_number"]
    if doc.get("doc_type_std") in DOC_TYPES:
        meta["document_type"] = doc["doc_type_std"]
    return meta


def write_corpus_file(inbox: Path, doc: dict[str, Any]) -> Path:
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / f"{doc['id']}.txt"
    if not path.exists():
        path.write_text(doc["text"], encoding="utf-8")
    return path


def _archive(c: IntakeDeps, sub: Submission, report: LoadReport) -> None:
    with c.sessions() as session:
        seen = session.scalar(
            select(Record.id).where(
                Record.source_system == sub.source_system, Record.source_id == sub.source_id
            )
        )
    if seen is not None:  # loaded by an earlier run; generated DOCX bytes are not reproducible
        report.skipped += 1
        return
    try:
        receipt = submit(c, Actor.system(sub.source_system, {"submit"}), sub).receipt or {}
    except DanganError as exc:
        report.rejected.append(f"{sub.source_id}: [{exc.code}] {exc.en}")
        return
    if receipt.get("archival_code"):
        report.archived += 1
    else:
        report.queued += 1


def load_samples(
    c: IntakeDeps, count: int, seed: int = 1, progress: Callable[[int], None] | None = None
) -> LoadReport:
    inbox = c.settings.resolved_data_dir / "inbox" / "samples"
    report = LoadReport()
    for path, meta in generate_samples(inbox, count, seed=seed):
        clean = {k: v for k, v in meta.items() if k not in {"pages"}}
        sub = Submission("demo-oa", path.stem, clean, [IncomingFile(path, path.name)])
        _archive(c, sub, report)
        if progress:
            progress(1)
    return report


def load_corpus(
    c: IntakeDeps, corpus: Path, limit: int | None, progress: Callable[[int], None] | None = None
) -> LoadReport:
    inbox = c.settings.resolved_data_dir / "inbox" / "corpus"
    report = LoadReport()
    for doc in corpus_documents(corpus, limit):
        meta = corpus_metadata(doc)
        if meta is None:
            report.skipped += 1
        else:
            path = write_corpus_file(inbox, doc)
            sub = Submission("corpus", doc["id"], meta, [IncomingFile(path, path.name)])
            _archive(c, sub, report)
        if progress:
            progress(1)
    return report
