"""The archive spine end to end on SQLite and PostgreSQL: submit → numbered, signed,
replicated, on the ledger, searchable, verifiable; idempotent; queued when unclassifiable."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from dangan.bootstrap import Container
from dangan.core.errors import ConflictError, IntegrityFailure
from dangan.crypto import hash_with, verifier_for, verify_signature
from dangan.ledger import verify_proof_bundle
from dangan.records.domain import IncomingFile, Submission, package_manifest
from dangan.records.models import STATUS_ARCHIVED, STATUS_PENDING, CheckReport, Record
from dangan.records.services import confirm, list_queue
from dangan.records.staging import logical_path
from tests.archive_kit import (
    OPERATOR,
    UNCLASSIFIABLE,
    archivist,
    find,
    ingest,
    new_instance,
    notice,
    sha256_hex,
    sm3_hex,
    verify,
    write_doc,
)
from tests.ocfl_check import validate

CODE = re.compile(r"^Z109-WS·2024-D30-BGS-(\d{4})$")


@pytest.fixture
def archive(tmp_path: Path, db_url: str) -> Iterator[Container]:
    c = new_instance(tmp_path / "inst", db_url)
    yield c
    c.close()


def test_submission_is_numbered_signed_replicated_and_provable(
    archive: Container, tmp_path: Path
) -> None:
    sub = notice(tmp_path / "in", 1)
    path = sub.files[0].path
    receipt = ingest(archive, sub)

    assert receipt["status"] == STATUS_ARCHIVED
    assert CODE.match(receipt["archival_code"]).group(1) == "0001"
    assert receipt["files"][0]["sm3"] == sm3_hex(path)
    assert receipt["files"][0]["sha256"] == sha256_hex(path)

    # The package signature verifies with the public key over the signed description.
    with archive.sessions() as s:
        rec = s.get(Record, receipt["record_id"])
        description = json.loads(rec.versions[-1].metadata_json)
    sig = receipt["signature"]
    assert sig["algorithm"] == "sm2-sm3"
    assert verify_signature(
        "sm2-sm3",
        bytes.fromhex(sig["public_key"]),
        package_manifest(description),
        bytes.fromhex(sig["value"]),
    )
    assert description["metadata"]["archival_code"] == receipt["archival_code"]

    # The ledger proof is checkable by an outsider with only the public key.
    bundle = receipt["ledger"]
    assert (
        verify_proof_bundle(
            bundle,
            archive.suite.public_key(),
            lambda d: hash_with(bundle["hash"], d),
            verifier_for(bundle["sign"]),
        )
        == []
    )
    assert json.loads(bundle["event"])["type"] == "record.archived"

    # Both replicas hold the content and the package; ocfl-py accepts both roots.
    for root in archive.roots:
        assert root.read_file(rec.id, logical_path(path.name)) == path.read_bytes()
        assert b"\xe9\xa2\x98\xe5\x90\x8d" in root.read_file(rec.id, "metadata.xml")  # 题名
        ok, errors = validate(Path(root.store.root))  # type: ignore[attr-defined]
        assert ok, errors

    assert verify(archive, receipt["archival_code"]).ok
    hits = find(archive, "安全生产 检查")["hits"]
    assert [h["archival_code"] for h in hits] == [receipt["archival_code"]]

    with archive.sessions() as s:
        report = s.scalars(select(CheckReport)).one()
        items = {i["code"]: i["result"] for i in json.loads(report.report_json)["items"]}
    assert report.passed
    assert items["GD-2-1"] == "pass"
    assert items["GD-1-7"] == "pass"
    assert items["GD-4-2"] == "na"


def test_retry_returns_first_receipt_and_reuse_is_refused(
    archive: Container, tmp_path: Path
) -> None:
    sub = notice(tmp_path / "in", 1)
    first = ingest(archive, sub)
    again = ingest(archive, sub)
    assert again["archival_code"] == first["archival_code"]
    assert again["record_id"] == first["record_id"]
    assert again["ledger"]["seq"] == first["ledger"]["seq"]

    other = write_doc(tmp_path / "other", "x.txt", "完全不同的正文")
    reuse = Submission("oa", "OA-1", sub.metadata, [IncomingFile(other, "notice-1.txt")])
    with pytest.raises(ConflictError) as exc:
        ingest(archive, reuse)
    assert exc.value.code == "source_id_reused"
    with archive.sessions() as s:
        assert len(list(s.scalars(select(Record)))) == 1


def test_pieces_are_continuous_within_scope(archive: Container, tmp_path: Path) -> None:
    codes = [ingest(archive, notice(tmp_path / "in", n))["archival_code"] for n in range(1, 8)]
    pieces = [int(CODE.match(code).group(1)) for code in codes]
    assert pieces == list(range(1, 8))
    # Another scope (permanent retention, another year) starts again from 1.
    annual = notice(
        tmp_path / "in",
        99,
        title="关于2022年工作总结的报告",
        document_type="报告",
        date="2023-01-10",
    )
    assert ingest(archive, annual)["archival_code"] == "Z109-WS·2023-Y-BGS-0001"


def test_unclassifiable_goes_to_queue_then_confirm_numbers_it(
    archive: Container, tmp_path: Path
) -> None:
    path = write_doc(tmp_path / "in", "misc.txt", "杂项材料正文")
    receipt = ingest(
        archive, Submission("oa", "OA-Q", dict(UNCLASSIFIABLE), [IncomingFile(path, path.name)])
    )
    assert receipt["status"] == STATUS_PENDING
    assert receipt["archival_code"] is None
    queued = list_queue(archive, OPERATOR)
    assert [r["record_id"] for r in queued] == [receipt["record_id"]]
    assert queued[0]["reasons"][0]["code"] == "no_rule_matched"

    confirmed = confirm(
        archive, archivist("张档案"), receipt["record_id"], retention="D10", org="BGS"
    )
    assert confirmed["archival_code"] == "Z109-WS·2024-D10-BGS-0001"
    assert list_queue(archive, OPERATOR) == []
    with archive.sessions() as s:
        rec = s.get(Record, receipt["record_id"])
        assert [v.version for v in rec.versions] == [1, 2]
        assert archive.ledger.verify(s).ok
    with pytest.raises(ConflictError):
        confirm(archive, archivist("张档案"), receipt["record_id"], retention="Y", org="BGS")
    for root in archive.roots:
        assert root.read_inventory(receipt["record_id"])["head"] == "v2"
    assert verify(archive, receipt["record_id"]).ok


def test_corrupted_replica_is_reported_by_verify(archive: Container, tmp_path: Path) -> None:
    receipt = ingest(archive, notice(tmp_path / "in", 1))
    root = archive.roots[1]
    key = root.content_key(receipt["record_id"], logical_path("notice-1.txt"))
    target = Path(root.store.root) / key  # type: ignore[attr-defined]
    target.write_bytes(target.read_bytes().replace("安全".encode(), "危险".encode()))
    result = verify(archive, receipt["record_id"])
    assert not result.ok
    assert any("root2:notice-1.txt" in p for p in result.problems)
    assert not any(p.startswith("root1") for p in result.problems)
    with pytest.raises(IntegrityFailure):
        root.read_file(receipt["record_id"], logical_path("notice-1.txt"))
