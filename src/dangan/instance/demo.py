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


# Why a document was not loaded (besides a refusal, reported as "rejected:<problem code>").
NO_TEXT = "no_text"  # a metadata-only line: nothing to archive
ALREADY_LOADED = "already_loaded"  # archived by an earlier run


@dataclass
class LoadReport:
    """What a load did. Every document not loaded is in `not_loaded`, by reason."""

    archived: int = 0
    queued: int = 0
    undated: int = 0  # of `queued`: no date, an archivist gives the year
    rejected: list[str] = field(default_factory=list)
    not_loaded: dict[str, list[str]] = field(default_factory=dict)

    @property
    def skipped(self) -> int:
        return sum(len(names) for names in self.not_loaded.values())

    def skip(self, reason: str, name: str) -> None:
        self.not_loaded.setdefault(reason, []).append(name)

    def summary(self, first: int = 5) -> list[str]:
        """One line per reason: its count and the first few documents."""
        return [
            f"{reason}: {len(names)} — {', '.join(names[:first])}"
            + (" …" if len(names) > first else "")
            for reason, names in sorted(self.not_loaded.items())
        ]


def corpus_documents(
    corpus: Path, limit: int | None = None, report: LoadReport | None = None
) -> Iterator[dict[str, Any]]:
    """Documents from ../shared/data/corpus (*.jsonl.gz), source by source.

    A document without text is not yielded; it is counted in `report` (`no_text`)."""
    n = 0
    for name in CORPUS_FILES:
        path = corpus / f"{name}.jsonl.gz"
        if not path.exists():
            continue
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                doc = json.loads(line)
                if not doc.get("text"):
                    if report is not None:
                        report.skip(NO_TEXT, str(doc.get("id") or f"{name}:{n}"))
                    continue
                yield doc
                n += 1
                if limit is not None and n >= limit:
                    return


def corpus_metadata(doc: dict[str, Any]) -> dict[str, Any]:
    """Map a corpus document onto DA/T 46 keys.

    The date goes as it is: a full date, a year only ("2025"), or none ("") — the undated
    document is queued for review by archiving, not dropped here."""
    meta: dict[str, Any] = {
        "title": doc["title"].strip(),
        "author": doc.get("org") or "未知",
        "security_classification": "公开",
    }
    date = str(doc.get("date") or "").strip()
    if date:
        meta["date"] = date
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
        report.skip(ALREADY_LOADED, sub.source_id)
        return
    try:
        receipt = submit(c, Actor.system(sub.source_system, {"submit"}), sub).receipt or {}
    except DanganError as exc:
        codes = sorted({f"{p.field}:{p.code}" for p in exc.problems}) or [exc.code]
        report.skip(f"rejected:{','.join(codes)}", sub.source_id)
        said = "; ".join(p.en for p in exc.problems) or exc.en
        report.rejected.append(f"{sub.source_id}: [{exc.code}] {said}")
        return
    if receipt.get("archival_code"):
        report.archived += 1
    else:
        report.queued += 1
        if "date" not in sub.metadata:
            report.undated += 1


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
    for doc in corpus_documents(corpus, limit, report):
        path = write_corpus_file(inbox, doc)
        sub = Submission("corpus", doc["id"], corpus_metadata(doc), [IncomingFile(path, path.name)])
        _archive(c, sub, report)
        if progress:
            progress(1)
    return report
