"""A real witness process (`dangan witness init|trust|serve`) against in-memory logs signed
with Ed25519 and with SM2: it cosigns consistent growth and refuses a rollback or a fork
even when they are validly signed with the log's (stolen) key."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest

from dangan.crypto import verifier_for
from dangan.ledger.note import Note, NoteSignature, parse_note, verify_cosignature
from dangan.witness.domain import Latest
from tests.witness.kit import Log, Witness

SIGNS = ["ed25519", "sm2-sm3"]
MakeWitness = Callable[..., Witness]


def _new_log(
    witness: Witness, request: pytest.FixtureRequest, sign: str = "ed25519", leaves: int = 0
) -> Log:
    """A log of this test's own (origin named after it), watched by `witness`."""
    origin = "log.example/" + request.node.name.replace("[", "-").rstrip("]")
    log = Log.new(origin, sign, leaves)
    witness.trust(log)
    return log


def _cosigned(witness: Witness, log: Log, old: int, size: int | None = None) -> int:
    """Send the log's checkpoint of `size` from `old`; check the cosignature; its time."""
    note = log.note(size)
    answer = witness.post(log.body(old, note))
    assert answer.status_code == 200, answer.text
    cosigned = parse_note(note.text + "\n" + answer.text)
    verify = verifier_for("ed25519")
    timestamp = verify_cosignature(cosigned, witness.name, witness.public_key, verify)
    assert timestamp is not None
    return timestamp


@pytest.mark.parametrize("sign", SIGNS)
def test_first_checkpoint_and_consistent_growth_are_cosigned(
    witness: Witness, request: pytest.FixtureRequest, sign: str
) -> None:
    log = _new_log(witness, request, sign, leaves=5)
    _cosigned(witness, log, old=0)
    assert witness.latest(log.origin) == Latest(5, log.tree.root())
    for grow in (1, 2, 9, 47):
        old = log.tree.size
        log.grow(grow)
        _cosigned(witness, log, old=old)  # with a real RFC 6962 consistency proof
    assert witness.latest(log.origin) == Latest(64, log.tree.root())
    _cosigned(witness, log, old=64)  # the same checkpoint again: cosigned again


@pytest.mark.parametrize("sign", SIGNS)
def test_a_rollback_signed_with_the_stolen_key_is_refused(
    witness: Witness, request: pytest.FixtureRequest, sign: str
) -> None:
    log = _new_log(witness, request, sign, leaves=8)
    _cosigned(witness, log, old=0)
    before = witness.latest(log.origin)
    rolled_back = log.note(5)  # an older, validly signed checkpoint
    for old in (0, 5):
        answer = witness.post(log.body(old, rolled_back, proof=[]))
        assert answer.status_code == 409
        assert answer.headers["content-type"] == "text/x.tlog.size"
        assert answer.text == "8\n"
    assert witness.post(log.body(8, rolled_back, proof=[])).status_code == 400  # old > new
    assert witness.latest(log.origin) == before


@pytest.mark.parametrize("sign", SIGNS)
def test_a_fork_signed_with_the_stolen_key_is_refused(
    witness: Witness, request: pytest.FixtureRequest, sign: str
) -> None:
    log = _new_log(witness, request, sign, leaves=8)
    _cosigned(witness, log, old=0)
    forked = log.fork(8)
    answer = witness.post(log.body(8, log.note(tree=forked), proof=[]))
    assert answer.status_code == 409  # same size, another root
    assert answer.headers["content-type"].startswith("text/plain")
    # a forked tree that grows: its own proof is valid, but not from the root cosigned
    grown = log.fork(13)
    answer = witness.post(log.body(8, log.note(tree=grown), grown.consistency_proof(8, 13)))
    assert answer.status_code == 422
    assert witness.latest(log.origin) == Latest(8, log.tree.root())
    from dangan.witness.keys import STATE_FILE
    from dangan.witness.state import WitnessState

    kept = WitnessState(witness.directory / STATE_FILE).evidence(log.origin)
    assert [code for code, _ in kept] == ["fork", "bad_consistency_proof"]


def test_a_bad_consistency_proof_is_422(witness: Witness, request: pytest.FixtureRequest) -> None:
    log = _new_log(witness, request, leaves=6)
    _cosigned(witness, log, old=0)
    log.grow(7)
    proof = log.proof(6, 13)
    tampered = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]
    for bad in (tampered, proof[:-1], [], [*proof, proof[0]]):
        assert witness.post(log.body(6, log.note(), bad)).status_code == 422
    assert witness.post(log.body(0, log.note(6), [proof[0]])).status_code == 409  # old 0 ≠ 6
    assert witness.latest(log.origin) == Latest(6, log.tree.root(6))


def test_unknown_origin_is_404_and_bad_signatures_403(
    witness: Witness, request: pytest.FixtureRequest
) -> None:
    log = _new_log(witness, request, leaves=3)
    stranger = Log.new("log.example/unknown", leaves=3)
    assert witness.post(stranger.body(0, stranger.note())).status_code == 404
    impostor = Log.new(log.origin, leaves=3)  # same origin, another key
    assert witness.post(impostor.body(0, impostor.note())).status_code == 403
    note = log.note()
    (good,) = note.signatures
    bad = NoteSignature(good.name, good.key_id, good.signature[:-1] + b"\x00")
    assert witness.post(log.body(0, Note(note.text, (bad,)))).status_code == 403
    assert witness.post(log.body(0, Note(note.text, (bad, good)))).status_code == 403
    stranger_sig = impostor.note(tree=log.tree).signatures  # another key, ignored
    assert witness.post(log.body(0, note.with_signatures(stranger_sig))).status_code == 200
    for junk in (b"", b"old 1\n", b"old 01\n\n" + note.render().encode(), b"\xff\n\n"):
        assert witness.post(junk).status_code == 400
    assert witness.post(b"old 0\n\n" + b"x" * 70_000).status_code == 413


def test_the_state_survives_a_restart(make_witness: MakeWitness) -> None:
    witness = make_witness()
    log = Log.new("log.example/restart", "sm2-sm3", leaves=10)
    witness.trust_cli(log)  # `dangan witness trust`
    witness.start()
    _cosigned(witness, log, old=0)
    witness.stop()
    witness.start()
    answer = witness.post(log.body(0, log.note(4), proof=[]))
    assert (answer.status_code, answer.text) == (409, "10\n")
    log.grow(3)
    _cosigned(witness, log, old=10)
    assert witness.latest(log.origin) == Latest(13, log.tree.root())


def test_racing_requests_cannot_roll_the_state_back(
    witness: Witness, request: pytest.FixtureRequest
) -> None:
    log = _new_log(witness, request, leaves=10)
    _cosigned(witness, log, old=0)
    log.grow(30)
    bodies = [log.body(10, log.note(size)) for size in range(11, 41)]
    start = threading.Barrier(len(bodies))
    answers: list[httpx.Response] = [None] * len(bodies)  # type: ignore[list-item]

    def send(i: int) -> None:
        with httpx.Client(timeout=10) as client:
            start.wait()
            answers[i] = witness.post(bodies[i], client)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    won = [11 + i for i, a in enumerate(answers) if a.status_code == 200]
    assert len(won) == 1  # every request claimed old 10; only the first to commit may pass
    assert {a.text for a in answers if a.status_code != 200} == {f"{won[0]}\n"}
    assert witness.latest(log.origin) == Latest(won[0], log.tree.root(won[0]))
