"""`dangan demo --corpus`: year-only documents load, undated ones are queued for review, and
every document not loaded is reported with its reason — none is skipped silently.

The corpus is a small one written here in the shape of ../shared/data/corpus (gzipped JSON
lines per source, `date` a full date, a year or empty); no shared data is copied."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dangan.cli.main import app
from dangan.instance.demo import ALREADY_LOADED, NO_TEXT, load_corpus
from dangan.records.services import get_metadata, list_queue
from tests.archive_kit import OPERATOR, archivist, new_instance


def _doc(source: str, n: int, date: str, text: str = "正文内容。", **extra: Any) -> dict[str, Any]:
    return {
        "id": f"{source}-{n:05d}",
        "title": f"关于第{n}项工作的通知",
        "org": "生态环境部",
        "doc_number": "",
        "date": date,
        "doc_type": "通知",
        "category": "xxgk01",
        "text": text,
        "source": "test",
        "doc_type_std": "通知",
        **extra,
    }


def _corpus(folder: Path) -> Path:
    folder.mkdir(parents=True)
    sources = {
        "gccmpd_mee": [
            _doc("gccmpd_mee", 1, "2022-10-27"),
            _doc("gccmpd_mee", 2, "2022", year_field="2022"),  # year only
            _doc("gccmpd_mee", 3, "2021-02-30"),  # no such day: refused, reported
        ],
        "gov_work_reports": [
            _doc("gov_work_reports", 1, "2025", year_field="2025"),
            _doc("gov_work_reports", 2, "", year_field=None),  # undated: queued
            _doc("gov_work_reports", 3, "2024", text=""),  # nothing to archive
        ],
    }
    for name, docs in sources.items():
        with gzip.open(folder / f"{name}.jsonl.gz", "wt", encoding="utf-8") as fh:
            for d in docs:
                fh.write(json.dumps(d, ensure_ascii=False) + "\n")
    return folder


def test_corpus_loader_loads_year_only_and_reports_what_it_does_not_load(
    tmp_path: Path, db_url: str
) -> None:
    corpus = _corpus(tmp_path / "corpus")
    c = new_instance(tmp_path / "inst", db_url)
    try:
        report = load_corpus(c, corpus, None)
        assert report.archived + report.queued == 4
        assert report.undated == 1
        assert report.not_loaded == {
            NO_TEXT: ["gov_work_reports-00003"],
            "rejected:date:bad_date": ["gccmpd_mee-00003"],
        }
        assert report.skipped == 2
        lines = report.summary()
        assert "rejected:date:bad_date: 1 — gccmpd_mee-00003" in lines
        assert "no_text: 1 — gov_work_reports-00003" in lines

        queue = list_queue(c, OPERATOR)
        undated = [q for q in queue if q["reasons"][0]["code"] == "undated"]
        assert [q["title"] for q in undated] == ["关于第2项工作的通知"]
        assert undated[0]["date"] is None

        from dangan.records.domain import record_id_for

        year_only = get_metadata(c, archivist(), record_id_for("corpus", "gov_work_reports-00001"))
        assert (year_only["date"], year_only["date_precision"]) == ("2025", "year")
        assert year_only["metadata"]["year"] == 2025

        again = load_corpus(c, corpus, None)  # a second run loads nothing, and says why
        assert again.archived == again.queued == 0
        assert len(again.not_loaded[ALREADY_LOADED]) == 4
        assert again.skipped == 6
    finally:
        c.close()


def test_demo_command_prints_counts_by_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = _corpus(tmp_path / "corpus")
    monkeypatch.setenv("DANGAN_DATA_DIR", str(tmp_path / "inst"))
    monkeypatch.setenv("COLUMNS", "200")
    cli = CliRunner()
    assert cli.invoke(app, ["init"]).exit_code == 0
    out = cli.invoke(app, ["demo", "--corpus", str(corpus)])
    assert out.exit_code == 0, out.output
    assert "（无日期 undated 1）" in out.output
    assert "未载入 not loaded 2" in out.output
    assert "no_text: 1 — gov_work_reports-00003" in out.output
    assert "rejected:date:bad_date: 1 — gccmpd_mee-00003" in out.output
    assert "[invalid_input] date '2021-02-30' is not a valid date" in out.output
