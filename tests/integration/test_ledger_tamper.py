"""Tampering with a running instance's ledger as an intruder (or an insider holding the signing
key) would, on SQLite and PostgreSQL. Each change is found at the positions it touched, the
first bad position is named, and what follows from it says so; what is signed is checked with
the independent verifier in tests/independent (RFC 9162 and C2SP, no Dangan code).

Six notices are archived first: one ledger entry each, entry n-1 placing notice n, one batch
and one signed checkpoint per entry (sizes 1..6), every receipt holding its checkpoint.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from dangan.audit.services import consistency, latest_checkpoint, verify_ledger
from dangan.bootstrap import Container
from dangan.core.clock import utcnow
from dangan.core.errors import IntegrityFailure
from dangan.crypto import SmSuite
from dangan.crypto.interfaces import CryptoSuite
from dangan.instance.lifecycle import recover_instance, reset_catalogue
from dangan.ledger import checkpoints, mirror
from dangan.ledger.checkpoints import sign_checkpoint
from dangan.ledger.domain import TreeBuilder
from dangan.ledger.domain import leaf_hash as dangan_leaf_hash
from dangan.ledger.events import audit_event
from dangan.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerHead, LedgerNode
from dangan.ledger.report import VerifyReport
from dangan.records.models import Record
from dangan.records.rebuild import rebuild_catalogue
from dangan.records.receipts import Receipt
from tests.archive_kit import OPERATOR, counts, ingest, new_instance, notice
from tests.independent import verifier as ind

ENTRIES = 6
SM2_NOTE_TYPE = b"\xff" + b"dangan/sm2-sm3"  # our SM2 signature type (signed-note: 0xff + id)


@dataclass
class Archive:
    c: Container
    receipts: list[Receipt]
    folder: Path

    def report(self) -> VerifyReport:
        return verify_ledger(self.c, OPERATOR)

    def ingest_one(self, n: int) -> Receipt:
        return ingest(self.c, notice(self.folder, n))


@pytest.fixture
def archive(tmp_path: Path, db_url: str) -> Iterator[Archive]:
    c = new_instance(tmp_path / "inst", db_url)
    try:
        receipts = [ingest(c, notice(tmp_path / "in", n)) for n in range(1, ENTRIES + 1)]
        assert [r["ledger_seq"] for r in receipts] == list(range(ENTRIES))
        assert verify_ledger(c, OPERATOR).ok
        yield Archive(c, receipts, tmp_path / "in")
    finally:
        c.close()


# --- what the report says ------------------------------------------------------------------


def causes(report: VerifyReport) -> set[tuple[str, tuple[int, int]]]:
    """(code, [start, end)) of every finding that is not a consequence of an earlier one."""
    return {
        (f["code"], tuple(f["seq_range"]))
        for f in report.as_dict()["findings"]
        if "follows_from" not in f and f["seq_range"] is not None
    }


def consequences(report: VerifyReport) -> dict[str, int]:
    """code → the position it follows from."""
    return {
        f["code"]: f["follows_from"] for f in report.as_dict()["findings"] if "follows_from" in f
    }


# --- the independent verifier's view -------------------------------------------------------


def log_verifier(c: Container) -> ind.NoteVerifier:
    assert c.ledger.suite.sign_name == "sm2-sm3"  # the default suite
    return ind.sm2_verifier(
        c.ledger.origin, c.ledger.suite.public_key(), signature_type=SM2_NOTE_TYPE
    )


def independent_checkpoint(c: Container, note: str) -> ind.Checkpoint:
    return ind.verify_checkpoint(
        note.encode(), [log_verifier(c)], hash_fn=ind.sm3, origin=c.ledger.origin
    )


def independent_receipt(c: Container, receipt: Receipt) -> ind.Checkpoint:
    """The receipt's inclusion proof and checkpoint, checked as its holder would."""
    bundle: dict[str, Any] = receipt["ledger"]
    cp = independent_checkpoint(c, bundle["checkpoint"])
    leaf = ind.leaf_hash(bundle["event"].encode(), hash_fn=ind.sm3)
    path = [bytes.fromhex(p) for p in bundle["audit_path"]]
    ind.verify_inclusion(bundle["seq"], cp.size, leaf, path, cp.root_hash, hash_fn=ind.sm3)
    return cp


def chain_to_latest(c: Container, held: str) -> list[ind.Checkpoint]:
    """A checkpoint a holder kept, then today's, joined by the log's consistency proof over
    the read-only use cases (what `GET /api/v1/ledger/...` serves)."""
    latest = latest_checkpoint(c, OPERATOR).note
    old = ind.parse_checkpoint(ind.parse_note(held.encode()).text).size
    new = ind.parse_checkpoint(ind.parse_note(latest.encode()).text).size
    proof = [base64.b64decode(p) for p in consistency(c, OPERATOR, old, new)["proof"]]
    return ind.verify_checkpoint_chain(
        [held.encode(), latest.encode()], [proof], [log_verifier(c)], hash_fn=ind.sm3
    )


# --- the tampering ---------------------------------------------------------------------------


def event_at(c: Container, seq: int) -> str:
    with c.sessions() as s:
        return s.scalars(select(LedgerEntry.event).where(LedgerEntry.seq == seq)).one()


def recompute_everything(c: Container, suite: CryptoSuite, seq: int) -> None:
    """Rewrite entry `seq`, then everything derived from it as a careful forger would: its
    leaf hash, every tree node, and every checkpoint re-signed with `suite`'s key."""
    h = c.ledger.suite.hash
    changed = event_at(c, seq).replace('"OA-', '"OB-')
    with c.sessions.begin() as s:
        s.execute(
            update(LedgerEntry)
            .where(LedgerEntry.seq == seq)
            .values(event=changed, leaf_hash=dangan_leaf_hash(h, changed.encode()))
        )
        sizes = list(s.scalars(select(LedgerCheckpoint.size)))
        s.execute(delete(LedgerNode))
        s.execute(delete(LedgerCheckpoint))
        builder = TreeBuilder(h)
        leaves = s.execute(select(LedgerEntry.seq, LedgerEntry.leaf_hash).order_by("seq")).all()
        for at, leaf in leaves:
            for level, idx, digest in builder.push(bytes(leaf)):
                s.add(LedgerNode(level=level, idx=idx, hash=digest, seq=at))
        s.flush()
        for size in sizes:
            checkpoints.store(
                s, sign_checkpoint(suite, c.ledger.origin, size, c.ledger.root(s, size))
            )


# --- the tests ---------------------------------------------------------------------------------


def test_an_edited_entry_is_named(archive: Archive) -> None:
    c = archive.c
    with c.sessions.begin() as s:
        s.execute(
            update(LedgerEntry)
            .where(LedgerEntry.seq == 3)
            .values(event=event_at(c, 3).replace('"actor":"system:oa"', '"actor":"system:hr"'))
        )
    report = archive.report()
    assert report.first_bad == 3
    assert causes(report) == {
        ("leaf_hash_mismatch", (3, 4)),
        ("entry_differs_from_copy", (3, 4)),  # the copies still hold the original
    }
    # Its holder's receipt still proves the original event; today's does not fit it.
    signed = independent_receipt(c, archive.receipts[3])
    today = ind.leaf_hash(event_at(c, 3).encode(), hash_fn=ind.sm3)
    path = [bytes.fromhex(p) for p in archive.receipts[3]["ledger"]["audit_path"]]
    with pytest.raises(ind.ProofError):
        ind.verify_inclusion(3, signed.size, today, path, signed.root_hash, hash_fn=ind.sm3)


def test_a_deleted_entry_is_one_finding_per_view(archive: Archive) -> None:
    c = archive.c
    with c.sessions.begin() as s:
        s.execute(delete(LedgerEntry).where(LedgerEntry.seq == 3))
    report = archive.report()
    assert report.first_bad == 3
    assert causes(report) == {
        ("entry_missing", (3, 4)),
        ("entries_missing_from_database", (3, 4)),  # both copies, one finding
        ("record_event_missing", (3, 4)),  # notice 4's archiving event
    }
    # the signed roots from size 4 on no longer fit: said to follow from entry 3
    assert consequences(report) == {"checkpoint_root_mismatch": 3}


def test_swapped_entries_name_both_positions(archive: Archive) -> None:
    c = archive.c
    with c.sessions.begin() as s:
        a, b = s.get(LedgerEntry, 3), s.get(LedgerEntry, 4)
        assert a is not None
        assert b is not None
        first, second = (a.event, a.leaf_hash), (b.event, b.leaf_hash)
        (a.event, a.leaf_hash), (b.event, b.leaf_hash) = second, first
    report = archive.report()
    assert report.first_bad == 3
    assert causes(report) == {
        ("entry_out_of_place", (3, 5)),
        ("entry_differs_from_copy", (3, 5)),
        ("record_event_missing", (3, 5)),  # notices 4 and 5 point at each other's events
    }
    assert set(consequences(report).values()) == {3}


def test_a_cut_tail_is_found_refused_and_restored(archive: Archive) -> None:
    """Entries, nodes, checkpoints and head set back by two: the copies, the checkpoint signed
    outside the database and the receipts all know better; nothing is signed over the gap."""
    c = archive.c
    with c.sessions.begin() as s:
        s.execute(delete(LedgerEntry).where(LedgerEntry.seq >= 4))
        s.execute(delete(LedgerNode).where(LedgerNode.seq >= 4))
        s.execute(delete(LedgerCheckpoint).where(LedgerCheckpoint.size > 4))
        s.execute(update(LedgerHead).values(size=4))
    report = archive.report()
    assert report.ok is False
    assert report.size == 4
    assert report.first_bad == 4
    assert causes(report) == {
        ("entries_missing_from_database", (4, 6)),
        ("signed_beyond_database", (4, 6)),
        ("receipt_beyond_database", (4, 6)),  # the receipts of notices 5 and 6
        ("record_event_missing", (4, 6)),
    }

    before = counts(c)
    with pytest.raises(IntegrityFailure) as refused:
        archive.ingest_one(7)
    assert refused.value.code == "ledger_rolled_back"
    assert counts(c) == before  # refused, and nothing written

    recover_instance(c)  # puts the cut entries back from the copies
    assert archive.report().ok
    # every receipt handed out is part of today's log, as its holder can check
    for receipt in archive.receipts:
        independent_receipt(c, receipt)
        chain_to_latest(c, receipt["ledger"]["checkpoint"])


def test_a_forgery_without_the_key_is_named_at_its_entry(archive: Archive) -> None:
    c = archive.c
    recompute_everything(c, SmSuite.generate(), seq=3)
    report = archive.report()
    assert report.first_bad == 3
    found = causes(report)
    assert ("checkpoint_signature_invalid", (0, 6)) in found  # every re-signed checkpoint
    assert ("entry_differs_from_copy", (3, 4)) in found  # the copies fit their checkpoints
    assert ("fork_from_signed_checkpoint", (0, 6)) in found
    assert {code for code, _ in found} == {
        "checkpoint_signature_invalid",
        "entry_differs_from_copy",
        "fork_from_signed_checkpoint",
        "receipt_checkpoint_differs",
    }
    with c.sessions() as s:
        forged = checkpoints.at_size(s, 6)
    assert forged is not None
    with pytest.raises(ind.SignatureError):
        independent_checkpoint(c, forged.note)


def test_a_forgery_with_the_stolen_key_is_caught_by_the_copies_and_receipts(
    archive: Archive,
) -> None:
    c = archive.c
    recompute_everything(c, c.ledger.suite, seq=3)
    report = archive.report()
    assert report.first_bad == 3
    found = causes(report)
    assert "checkpoint_signature_invalid" not in {code for code, _ in found}  # the key signs
    assert ("entry_differs_from_copy", (3, 4)) in found
    assert ("fork_from_signed_checkpoint", (0, 6)) in found  # the roots' latest checkpoint
    # receipts of notices 4..6 hold checkpoints 4..6 the database's tree no longer has
    assert ("receipt_checkpoint_differs", (3, 6)) in found

    # Two validly signed checkpoints of size 4 with different roots: the log has forked,
    # provable to anyone from the receipt and today's log, with the public key alone.
    with c.sessions() as s:
        rewritten = checkpoints.at_size(s, 4)
    assert rewritten is not None
    given = independent_receipt(c, archive.receipts[3])
    now = independent_checkpoint(c, rewritten.note)
    assert given.size == now.size == 4
    assert given.root_hash != now.root_hash
    with pytest.raises(ind.ChainError, match="two roots"):
        ind.verify_checkpoint_chain(
            [archive.receipts[3]["ledger"]["checkpoint"].encode(), rewritten.note.encode()],
            [[]],
            [log_verifier(c)],
            hash_fn=ind.sm3,
        )
    # and nothing more is signed on top of the fork
    before = counts(c)
    with pytest.raises(IntegrityFailure) as refused:
        archive.ingest_one(7)
    assert refused.value.code == "ledger_forked"
    assert counts(c) == before


def test_a_lost_database_is_rebuilt_with_every_entry_and_receipt(archive: Archive) -> None:
    c = archive.c
    with c.sessions() as s:
        entries = s.execute(select(LedgerEntry.seq, LedgerEntry.event).order_by("seq")).all()
        given = dict(s.execute(select(Record.id, Record.receipt_json)).all())
    assert len(entries) == ENTRIES  # the last batch included: no lag behind the copies

    reset_catalogue(c)
    rebuild_catalogue(c, OPERATOR)

    with c.sessions() as s:
        back = s.execute(select(LedgerEntry.seq, LedgerEntry.event).order_by("seq")).all()
        links = dict(s.execute(select(Record.id, Record.ledger_seq)).all())
        receipts = dict(s.execute(select(Record.id, Record.receipt_json)).all())
    assert back[:ENTRIES] == entries
    assert json.loads(back[ENTRIES][1])["type"] == "catalogue.rebuilt"
    assert receipts == given  # as first given, byte for byte
    assert sorted(links.values()) == list(range(ENTRIES))
    assert archive.report().ok
    for receipt in archive.receipts:
        chain_to_latest(c, receipt["ledger"]["checkpoint"])


def test_rebuild_refuses_copies_that_lost_a_signed_tail(archive: Archive) -> None:
    """The copies' last segment is gone but their latest checkpoint (size 6) remains:
    rebuilding would sign size 5 or 6 anew, beside a checkpoint already handed out."""
    c = archive.c
    for root in c.roots:
        start, end = mirror.segments(root.store)[-1]
        assert end == ENTRIES
        root.store.delete(mirror.segment_key(start, end))
    reset_catalogue(c)
    with pytest.raises(IntegrityFailure) as refused:
        rebuild_catalogue(c, OPERATOR)
    assert refused.value.code == "ledger_rolled_back"
    assert "6" in refused.value.en
    with c.sessions() as s:
        assert s.scalar(select(LedgerCheckpoint.size).order_by(LedgerCheckpoint.size.desc())) in (
            None,
            5,
        )


def test_an_edited_storage_copy_is_blamed_on_the_copy(archive: Archive) -> None:
    c = archive.c
    store = c.roots[1].store
    start, end = next(sp for sp in mirror.segments(store) if sp[0] <= 3 < sp[1])
    key = mirror.segment_key(start, end)
    seg = mirror.read_segment(store, start, end)
    seg.entries[3 - start] = seg.entries[3 - start].replace('"OA-', '"OB-')
    store.put(key, seg.doc())
    report = archive.report()
    assert report.first_bad == 3
    assert causes(report) == {("copy_altered", (3, 4))}
    assert store.name in report.problems[0].en
    # the database and the other root are untouched, so the archive goes on
    assert archive.ingest_one(7)["ledger_seq"] == ENTRIES


def test_verify_while_appends_go_on_finds_nothing(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verification reads a snapshot while writers go on appending: what was committed and
    copied since is not taken for entries missing from the database, and writers are not held
    up for the length of the verification (SQLite reads a WAL snapshot)."""
    c = archive.c
    verify = c.ledger.verify
    appended: list[int] = []

    def verify_while_appending(session: Session) -> VerifyReport:
        report = verify(session)

        def writer() -> None:
            for n in range(3):
                event = audit_event("test.appended", "cli", utcnow(), "ok", details={"n": n})
                appended.append(c.sequencer.append([event])[0].seq)

        # appends from another thread while this snapshot is open: they must not wait for it
        thread = threading.Thread(target=writer)
        thread.start()
        thread.join(timeout=30)
        assert not thread.is_alive()
        return report

    monkeypatch.setattr(c.ledger, "verify", verify_while_appending)
    reports = [archive.report() for _ in range(3)]
    assert len(appended) == 9
    # each snapshot stopped short of what the copies and their latest checkpoints now hold
    assert all(r.size < appended[-1] for r in reports)
    assert [r.as_dict()["findings"] for r in reports] == [[]] * 3
    monkeypatch.undo()
    assert archive.report().ok
