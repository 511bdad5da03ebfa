"""`dangan.ledger.witnessing.Witnesses`, the log's side, against real witness processes."""

from __future__ import annotations

import pytest

from dangan.core.errors import UpstreamError
from dangan.crypto import verifier_for
from dangan.ledger.note import witnessed_by
from dangan.ledger.witnessing import Witnesses
from dangan.settings import LedgerSettings, WitnessSettings
from tests.witness.kit import Log, Witness, free_port

DOWN = "witness.example/down"


def _settings(quorum: int, *witnesses: Witness, down: bool = False) -> LedgerSettings:
    configured = [
        WitnessSettings(name=w.name, url=w.url, public_key=w.public_key.hex()) for w in witnesses
    ]
    if down:  # configured, but nothing listens there
        url = f"http://127.0.0.1:{free_port()}"
        configured.append(WitnessSettings(name=DOWN, url=url, public_key="ab" * 32))
    return LedgerSettings(witnesses=configured, witness_quorum=quorum, witness_timeout=2.0)


@pytest.fixture
def log(witness: Witness, witness2: Witness, request: pytest.FixtureRequest) -> Log:
    origin = "log.example/" + request.node.name.replace("[", "-").rstrip("]")
    log = Log.new(origin, "sm2-sm3", leaves=7)
    witness.trust(log)
    witness2.trust(log)
    return log


@pytest.fixture
def calls(log: Log) -> list[tuple[int, int]]:
    """The (old, new) of every proof the client asked the log for."""
    made: list[tuple[int, int]] = []
    real = log.proof

    def proof(old: int, new: int) -> list[bytes]:
        made.append((old, new))
        return real(old, new)

    log.proof = proof  # type: ignore[method-assign]
    return made


def test_cosign_collects_both_cosignatures(
    witness: Witness, witness2: Witness, log: Log, calls: list[tuple[int, int]]
) -> None:
    both = {witness.name, witness2.name}
    client = Witnesses(_settings(2, witness, witness2, down=True))
    try:
        note = client.cosign(log.note(), None, log.proof)
        assert witnessed_by(note, client.keys, verifier_for("ed25519")) == both
        assert len(note.signatures) == 3  # the log's and two cosignatures
        assert [client.quorum_met(note, k) for k in (1, 2, 3)] == [True, True, False]
        assert client.quorum_met(note)
        log.grow(5)
        grown = client.cosign(log.note(), None, log.proof)  # from the size each last cosigned
        assert client.quorum_met(grown)
        assert calls == [(7, 12)]  # one proof, computed once for both witnesses
        assert client.sizes() == {witness.name: 12, witness2.name: 12, DOWN: 0}
    finally:
        client.close()


def test_after_a_restart_the_409_tells_the_old_size(
    witness: Witness, witness2: Witness, log: Log, calls: list[tuple[int, int]]
) -> None:
    first = Witnesses(_settings(2, witness, witness2))
    first.cosign(log.note(), None, log.proof)
    first.close()
    log.grow(4)
    restarted = Witnesses(_settings(2, witness, witness2))  # knows no sizes: sends old 0
    try:
        note = restarted.cosign(log.note(), None, log.proof)
        assert restarted.quorum_met(note)
        assert calls == [(7, 11)]
        log.grow(1)
        told = restarted.cosign(log.note(), lambda name: 11, log.proof)
        assert restarted.quorum_met(told)
    finally:
        restarted.close()


def test_one_witness_down_quorum_one_holds_two_fails(witness: Witness, log: Log) -> None:
    one = Witnesses(_settings(1, witness, down=True))
    try:
        note = one.cosign(log.note(), None, log.proof)
        assert one.quorum_met(note)
        assert not one.quorum_met(note, 2)
    finally:
        one.close()
    log.grow(2)
    two = Witnesses(_settings(2, witness, down=True))
    try:
        with pytest.raises(UpstreamError) as failed:
            two.cosign(log.note(), None, log.proof)
    finally:
        two.close()
    assert failed.value.code == "witness_quorum_not_met"
    assert [(p.field, p.code) for p in failed.value.problems] == [
        (f"witness:{DOWN}", "witness_unreachable")
    ]


def test_a_rolled_back_log_cannot_get_its_quorum(
    witness: Witness, witness2: Witness, log: Log
) -> None:
    client = Witnesses(_settings(1, witness, witness2))
    try:
        client.cosign(log.note(), None, log.proof)
        with pytest.raises(UpstreamError) as failed:
            client.cosign(log.note(5), None, log.proof)  # the log lost two entries
        assert {p.code for p in failed.value.problems} == {"witness_ahead"}
        forked = log.note(tree=log.fork(7))
        with pytest.raises(UpstreamError) as failed:
            client.cosign(forked, None, log.proof)
        assert {p.code for p in failed.value.problems} == {"witness_refused"}
    finally:
        client.close()


def test_cosignatures_by_other_keys_are_ignored(witness: Witness, log: Log) -> None:
    wrong = _settings(0, witness)
    wrong.witnesses[0].public_key = "cd" * 32  # not the key the witness signs with
    client = Witnesses(wrong)
    try:
        note = client.cosign(log.note(), None, log.proof)  # quorum 0: not an error
        assert len(note.signatures) == 1  # the log's own only
        client.quorum = 1
        log.grow(1)
        with pytest.raises(UpstreamError) as failed:
            client.cosign(log.note(), None, log.proof)
    finally:
        client.close()
    assert [p.code for p in failed.value.problems] == ["witness_bad_cosignature"]
