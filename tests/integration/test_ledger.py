"""The audit log on SQLite and PostgreSQL: proofs, outside checks, tampering, concurrency."""

from __future__ import annotations

import base64
import threading
from functools import partial
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from dangan.core.canonical import canonical_json
from dangan.core.errors import IntegrityFailure, InvalidInputError, NotFoundError
from dangan.crypto import IntlSuite, SmSuite, hash_with, verify_signature
from dangan.crypto.interfaces import CryptoSuite
from dangan.db.base import Base
from dangan.db.engine import make_sessionmaker
from dangan.ledger import (
    LEDGER_TABLES,
    Ledger,
    LedgerCheckpoint,
    LedgerEntry,
    verify_consistency,
    verify_inclusion,
    verify_proof_bundle,
)
from dangan.ledger.checkpoints import sign_checkpoint
from dangan.ledger.domain import leaf_hash
from dangan.ledger.note import SIGNATURE_TYPES, Note, sign_note


@pytest.fixture(scope="module")
def sm_suite() -> CryptoSuite:
    return SmSuite.generate()


@pytest.fixture(scope="module")
def intl_suite() -> CryptoSuite:
    return IntlSuite.generate()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    Base.metadata.create_all(engine, tables=LEDGER_TABLES)
    return make_sessionmaker(engine)


@pytest.fixture
def ledger(sm_suite: CryptoSuite) -> Ledger:
    return Ledger(sm_suite, origin="dangan.test/ledger")


def event(i: int) -> dict[str, Any]:
    return {
        "type": "record.created",
        "actor": f"user-{i % 3}",
        "at": f"2025-01-01T00:00:{i % 60:02d}.000000Z",
        "target": f"record/{i}",
        "outcome": "ok",
        "details": {"n": i, "title": "档案 №" + str(i)},
    }


def fill(
    sessions: sessionmaker[Session], ledger: Ledger, n: int, *, checkpoint_every: int = 0
) -> None:
    for i in range(n):
        with sessions() as s, s.begin():
            assert ledger.append(s, event(i)).seq == i
            if checkpoint_every and (i + 1) % checkpoint_every == 0:
                ledger.checkpoint(s)


def verify(sessions: sessionmaker[Session], ledger: Ledger) -> Any:
    with sessions() as s, s.begin():
        return ledger.verify(s, batch=7)  # a small batch exercises the paging


def test_append_and_proofs(sessions: sessionmaker[Session], ledger: Ledger) -> None:
    fill(sessions, ledger, 37)
    h = ledger.suite.hash
    with sessions() as s, s.begin():
        assert ledger.size(s) == 37
        leaves = [bytes(x) for x in s.scalars(select(LedgerEntry.leaf_hash).order_by("seq"))]
        for size in (1, 2, 5, 16, 31, 37):
            root = ledger.root(s, size)
            for seq in range(size):
                path = ledger.inclusion_proof(s, seq, size)
                assert verify_inclusion(h, seq, size, leaves[seq], path, root)
            for old in (1, 3, size):
                if old <= size:
                    proof = ledger.consistency_proof(s, old, size)
                    assert verify_consistency(h, old, size, ledger.root(s, old), root, proof)
        with pytest.raises(InvalidInputError):
            ledger.inclusion_proof(s, 37, 37)
        with pytest.raises(InvalidInputError):
            ledger.root(s, 38)
        stored = s.scalars(select(LedgerEntry.event).where(LedgerEntry.seq == 4)).one()
        assert stored.encode() == canonical_json({**event(4), "seq": 4})
    assert verify(sessions, ledger).ok


def test_events_are_validated(sessions: sessionmaker[Session], ledger: Ledger) -> None:
    with sessions() as s, s.begin():
        with pytest.raises(InvalidInputError) as err:
            ledger.append(s, {"type": "x", "seq": 9, "colour": "red", "at": 5})
        fields = {p.field for p in err.value.problems}
        assert fields == {"actor", "seq", "colour", "at"}
        with pytest.raises(InvalidInputError):
            ledger.append(s, {"type": "x", "actor": "a", "at": "t", "details": {"f": 1.5}})
        assert ledger.size(s) == 0


def test_prove_bundle_checks_with_public_key_only(
    sessions: sessionmaker[Session], ledger: Ledger, sm_suite: CryptoSuite, intl_suite: CryptoSuite
) -> None:
    fill(sessions, ledger, 10, checkpoint_every=4)
    with sessions() as s, s.begin():
        early = ledger.prove(s, 2)  # covered by the checkpoint at 4
        with pytest.raises(IntegrityFailure) as unsigned:
            ledger.prove(s, 9)  # no signed checkpoint covers it: nothing to prove it against
        assert unsigned.value.code == "ledger_entry_unsigned"
        ledger.checkpoint(s)
        late = ledger.prove(s, 9)
    assert early["tree_size"] == 4
    assert late["tree_size"] == 10
    with sessions() as s:
        assert [c.size for c in ledger.checkpoints(s)] == [4, 8, 10]
        with pytest.raises(NotFoundError):
            ledger.prove(s, 10)

    # the outside party: the bundle as JSON, the public key, dangan.crypto's standalone checks
    key = sm_suite.public_key()
    check = partial(verify_proof_bundle, hash_fn=partial(hash_with, "sm3"))
    sm2 = partial(verify_signature, "sm2-sm3")
    for bundle in (early, late):
        wire = canonical_json(bundle)
        assert check(__import__("json").loads(wire), key, verify_fn=sm2) == []

    other = intl_suite.public_key()
    assert check(late, other, verify_fn=partial(verify_signature, "ed25519"))
    forged_event = {**late, "event": late["event"].replace("user-", "USER-")}
    assert any("audit path" in p for p in check(forged_event, key, verify_fn=sm2))
    moved = {**late, "seq": 8, "audit_path": early["audit_path"]}
    assert check(moved, key, verify_fn=sm2)
    bad_path = {**late, "audit_path": ["00" * 32, *late["audit_path"][1:]]}
    assert check(bad_path, key, verify_fn=sm2)
    lines = late["checkpoint"].split("\n")
    lines[2] = base64.b64encode(b"\x11" * 32).decode()  # another root under the same signature
    forged_cp = "\n".join(lines)
    assert any(
        "signature" in p for p in check({**late, "checkpoint": forged_cp}, key, verify_fn=sm2)
    )


def test_intl_suite_works_too(sessions: sessionmaker[Session], intl_suite: CryptoSuite) -> None:
    ledger = Ledger(intl_suite, origin="intl")
    fill(sessions, ledger, 6, checkpoint_every=3)
    with sessions() as s, s.begin():
        bundle = ledger.prove(s, 5)
        report = ledger.verify(s)
    assert report.ok, report.problems
    problems = verify_proof_bundle(
        bundle,
        intl_suite.public_key(),
        partial(hash_with, "sha256"),
        partial(verify_signature, "ed25519"),
    )
    assert problems == []


# --- tampering ---------------------------------------------------------------------------


def tamper(sessions: sessionmaker[Session], *statements: Any) -> None:
    with sessions() as s, s.begin():
        for stmt in statements:
            s.execute(stmt)


def test_clean_log_verifies(sessions: sessionmaker[Session], ledger: Ledger) -> None:
    fill(sessions, ledger, 40, checkpoint_every=10)
    report = verify(sessions, ledger)
    assert report.ok, report.problems
    assert report.entries_checked == 40
    assert report.checkpoints_checked == 4
    assert report.nodes_checked == 40 - (40).bit_count()  # complete inner subtrees of 40 leaves
    assert report.size == 40


def test_updated_event_is_named(sessions: sessionmaker[Session], ledger: Ledger) -> None:
    fill(sessions, ledger, 20, checkpoint_every=5)
    with sessions() as s:
        original = s.scalars(select(LedgerEntry.event).where(LedgerEntry.seq == 12)).one()
    changed = original.replace('"outcome":"ok"', '"outcome":"denied"')
    assert changed != original
    tamper(sessions, update(LedgerEntry).where(LedgerEntry.seq == 12).values(event=changed))
    report = verify(sessions, ledger)
    assert report.seqs() == {12}
    assert report.codes() == {"leaf_hash_mismatch"}


def test_deleted_entry_is_named(sessions: sessionmaker[Session], ledger: Ledger) -> None:
    fill(sessions, ledger, 20, checkpoint_every=5)
    tamper(sessions, delete(LedgerEntry).where(LedgerEntry.seq.in_([7, 8])))
    report = verify(sessions, ledger)
    gaps = [p for p in report.problems if p.code == "entry_missing"]
    assert [(p.seq, p.seq_range) for p in gaps] == [(7, (7, 9))]
    # the checkpoints over the gap fail, narrowed to start at the last good one
    roots = [p.seq_range for p in report.problems if p.code == "checkpoint_root_mismatch"]
    assert roots == [(5, 10), (5, 15), (5, 20)]


def test_deleted_tail_is_named(sessions: sessionmaker[Session], ledger: Ledger) -> None:
    fill(sessions, ledger, 9)
    tamper(sessions, delete(LedgerEntry).where(LedgerEntry.seq == 8))
    report = verify(sessions, ledger)
    assert [(p.code, p.seq) for p in report.problems] == [("entry_missing", 8)]


def test_swapped_events_name_both_positions(
    sessions: sessionmaker[Session], ledger: Ledger
) -> None:
    fill(sessions, ledger, 20, checkpoint_every=10)
    with sessions() as s:
        rows = {
            r.seq: r
            for r in s.execute(
                select(LedgerEntry.seq, LedgerEntry.event, LedgerEntry.leaf_hash).where(
                    LedgerEntry.seq.in_([3, 14])
                )
            )
        }
    # a thorough attacker swaps the leaf hashes with the events
    tamper(
        sessions,
        update(LedgerEntry)
        .where(LedgerEntry.seq == 3)
        .values(event=rows[14].event, leaf_hash=rows[14].leaf_hash),
        update(LedgerEntry)
        .where(LedgerEntry.seq == 14)
        .values(event=rows[3].event, leaf_hash=rows[3].leaf_hash),
    )
    report = verify(sessions, ledger)
    assert report.seqs("entry_out_of_place") == {3, 14}
    assert report.seqs() == {3, 14}


def test_recomputed_leaf_hash_is_narrowed_to_checkpoint_range(
    sessions: sessionmaker[Session], ledger: Ledger
) -> None:
    fill(sessions, ledger, 30, checkpoint_every=8)  # checkpoints at 8, 16, 24
    fill_more = 30
    with sessions() as s, s.begin():
        assert ledger.size(s) == fill_more
        original = s.scalars(select(LedgerEntry.event).where(LedgerEntry.seq == 13)).one()
    changed = original.replace('"outcome":"ok"', '"outcome":"denied"')
    new_leaf = leaf_hash(ledger.suite.hash, changed.encode())
    tamper(
        sessions,
        update(LedgerEntry).where(LedgerEntry.seq == 13).values(event=changed, leaf_hash=new_leaf),
    )
    report = verify(sessions, ledger)
    assert not report.ok
    first = next(p for p in report.problems if p.code == "checkpoint_root_mismatch")
    assert first.seq_range == (8, 16)
    # the stored subtree over entries 12..13 also no longer matches
    assert any(p.code == "node_mismatch" and p.seq_range == (12, 14) for p in report.problems)


def test_forged_checkpoint_signature_is_reported(
    sessions: sessionmaker[Session], ledger: Ledger, intl_suite: CryptoSuite
) -> None:
    fill(sessions, ledger, 12, checkpoint_every=4)
    with sessions() as s:
        cp = next(c for c in ledger.checkpoints(s) if c.size == 8)
        four = next(c for c in ledger.checkpoints(s) if c.size == 4)
    # the note's signature line replaced by one over other text, with the log's own key
    wrong = sign_note(
        "something else\n",
        cp.origin,
        SIGNATURE_TYPES[ledger.suite.sign_name],
        ledger.suite.public_key(),
        ledger.suite.sign,
    ).signatures
    tamper(
        sessions,
        update(LedgerCheckpoint)
        .where(LedgerCheckpoint.size == 8)
        .values(note=Note(cp.parsed().text, wrong).render()),
    )
    report = verify(sessions, ledger)
    assert [(p.code, p.seq_range) for p in report.problems] == [
        ("checkpoint_signature_invalid", (0, 8))
    ]
    # a checkpoint re-signed with another key fails too
    other = sign_checkpoint(intl_suite, cp.origin, 4, four.root)
    tamper(
        sessions,
        update(LedgerCheckpoint).where(LedgerCheckpoint.size == 4).values(note=other.note),
    )
    assert "checkpoint_signature_invalid" in verify(sessions, ledger).codes()


def test_rewritten_history_with_fresh_checkpoint_is_inconsistent(
    sessions: sessionmaker[Session], ledger: Ledger
) -> None:
    """An insider with the signing key rewrites entry 2 everywhere (events, nodes, new
    checkpoint); the earlier signed checkpoint still betrays the fork."""
    fill(sessions, ledger, 8, checkpoint_every=4)
    with sessions() as s:
        original = s.scalars(select(LedgerEntry.event).where(LedgerEntry.seq == 2)).one()
    changed = original.replace('"outcome":"ok"', '"outcome":"denied"')
    tamper(
        sessions,
        update(LedgerEntry)
        .where(LedgerEntry.seq == 2)
        .values(event=changed, leaf_hash=leaf_hash(ledger.suite.hash, changed.encode())),
        text("DELETE FROM ledger_nodes"),
        text("DELETE FROM ledger_checkpoints WHERE size = 8"),
    )
    # rebuild the nodes as the insider would
    from dangan.ledger.domain import TreeBuilder
    from dangan.ledger.models import LedgerNode

    with sessions() as s, s.begin():
        tb = TreeBuilder(ledger.suite.hash)
        for seq, lh in s.execute(select(LedgerEntry.seq, LedgerEntry.leaf_hash).order_by("seq")):
            for level, idx, digest in tb.push(bytes(lh)):
                s.add(LedgerNode(level=level, idx=idx, hash=digest, seq=seq))
        s.flush()
        ledger.checkpoint(s)
    report = verify(sessions, ledger)
    assert ("checkpoint_root_mismatch", (0, 4)) in [(p.code, p.seq_range) for p in report.problems]
    assert "checkpoints_inconsistent" in report.codes()


# --- concurrency -------------------------------------------------------------------------


@pytest.mark.slow
def test_concurrent_appends_are_contiguous(sessions: sessionmaker[Session], ledger: Ledger) -> None:
    threads, per_thread = 6, 15
    seqs: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def worker(t: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with sessions() as s, s.begin():
                    r = ledger.append(s, event(t * 1000 + i))
                    if i % 5 == 4:
                        ledger.checkpoint(s)
                with lock:
                    seqs.append(r.seq)
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    assert not errors, errors
    assert sorted(seqs) == list(range(threads * per_thread))
    report = verify(sessions, ledger)
    assert report.ok, report.problems
    assert report.size == threads * per_thread


def test_head_row_is_created_once(sessions: sessionmaker[Session], ledger: Ledger) -> None:
    with sessions() as s, s.begin():
        assert ledger.size(s) == 0
        assert ledger.root(s) == ledger.suite.hash(b"")
        cp = ledger.checkpoint(s)
    assert cp.size == 0
    assert verify(sessions, ledger).ok


_APPENDER = """
import sys
from dangan.crypto import SmSuite
from dangan.db.engine import make_engine, make_sessionmaker
from dangan.ledger import Ledger

url, tag, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sessions = make_sessionmaker(make_engine(url))
ledger = Ledger(SmSuite.generate())
for i in range(count):
    with sessions() as s, s.begin():
        seq = ledger.append(s, {"type": "t", "actor": f"p{tag}", "at": "now"}).seq
    print(seq)
"""


@pytest.mark.slow
def test_concurrent_appends_from_processes(
    db_url: str, sessions: sessionmaker[Session], ledger: Ledger
) -> None:
    import subprocess
    import sys

    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _APPENDER, db_url, str(t), "12"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for t in range(4)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    seqs = sorted(int(line) for out in outputs for line in out.split())
    assert seqs == list(range(48))
    report = verify(sessions, ledger)
    assert report.ok, report.problems
