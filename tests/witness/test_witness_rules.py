"""The witness's rules without a process: parsing a request, the order of the checks, the
atomic check-and-update of its state, and checking k of n cosignatures."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from dangan.core.errors import (
    ConflictError,
    InvalidInputError,
    MalformedInputError,
    NotFoundError,
    PermissionDeniedError,
)
from dangan.crypto import hash_with, verifier_for
from dangan.witness.domain import (
    MAX_PROOF_LINES,
    Latest,
    LogConfig,
    OldSizeMismatch,
    check_growth,
    check_log_signature,
    parse_request,
    trusted_log,
)
from dangan.witness.keys import STATE_FILE, create_key, load_key
from dangan.witness.state import WitnessState
from tests.witness.kit import Log


def sha256(data: bytes) -> bytes:
    return hash_with("sha256", data)


def test_a_request_is_parsed_strictly() -> None:
    log = Log.new("log.example/a", leaves=9)
    body = log.body(4, log.note())
    request = parse_request(body)
    assert (request.old_size, request.checkpoint.size) == (4, 9)
    assert list(request.proof) == log.proof(4, 9)
    too_long = b"old 1\n" + b"AAAA\n" * (MAX_PROOF_LINES + 1) + b"\n" + log.note().render().encode()
    for bad in (b"old 4\n", b"old -1\n\n", b"new 4\n\n", b"old 4\n***\n\n", too_long):
        with pytest.raises(MalformedInputError):
            parse_request(bad)
    with pytest.raises(MalformedInputError):  # a note without signatures
        parse_request(b"old 0\n\n" + log.note().text.encode() + b"\n")


def test_the_checks_come_in_the_spec_order() -> None:
    log = Log.new("log.example/a", leaves=9)
    request = parse_request(log.body(0, log.note()))
    with pytest.raises(NotFoundError):
        check_log_signature(request, None, verifier_for)
    key = trusted_log(log.origin, "sha256", log.origin, "ed25519", log.public_key.hex())
    assert check_log_signature(request, LogConfig(log.origin, "sha256", (key,)), verifier_for)
    other = trusted_log(log.origin, "sha256", log.origin, "ed25519", "00" * 32)
    with pytest.raises(PermissionDeniedError):
        check_log_signature(request, LogConfig(log.origin, "sha256", (other,)), verifier_for)
    root9 = log.tree.root(9)
    check_growth(request, None, sha256)  # first checkpoint
    with pytest.raises(OldSizeMismatch) as stale:
        check_growth(request, Latest(5, log.tree.root(5)), sha256)
    assert stale.value.latest_size == 5
    with pytest.raises(MalformedInputError):  # old > new before anything else
        check_growth(parse_request(log.body(10, log.note(), [])), Latest(5, root9), sha256)
    with pytest.raises(ConflictError):  # same size, another root
        check_growth(parse_request(log.body(9, log.note(), [])), Latest(9, b"\0" * 32), sha256)
    with pytest.raises(InvalidInputError):  # old 0 carries no proof
        check_growth(parse_request(log.body(0, log.note(), [root9])), None, sha256)


def test_trusted_log_keys_are_checked() -> None:
    with pytest.raises(InvalidInputError) as bad:
        trusted_log("", "md5", "a b", "rsa", "zz")
    assert {p.field for p in bad.value.problems} == {
        "origin",
        "hash",
        "sign",
        "public_key",
        "key_name",
    }
    sm2 = Log.new("log.example/sm", "sm2-sm3")
    assert trusted_log("o", "sm3", "o", "sm2-sm3", sm2.public_key[1:].hex()).public_key == (
        sm2.public_key
    )


def test_advance_is_atomic_a_slow_small_request_cannot_roll_back(tmp_path: Path) -> None:
    """The spec's race: A (size N) is checked, B (size N+K) is checked and stored, A is
    stored — K leaves rolled back. Here A holds the transaction through its check, so B,
    checked after A stored N, is refused."""
    state = WitnessState.create(tmp_path / STATE_FILE)
    log = Log.new("log.example/race", leaves=20)
    state.trust(log.origin, "sha256", trusted_log(log.origin, "sha256", "k", "ed25519", "00" * 32))
    state.advance(log.origin, Latest(10, log.tree.root(10)), "", lambda latest: None)
    a_checking, outcome = threading.Event(), {}

    def request(name: str, size: int, slow: bool) -> None:
        req = parse_request(log.body(10, log.note(size)))

        def check(latest: Latest | None) -> None:
            if slow:
                a_checking.set()
                time.sleep(0.3)
            check_growth(req, latest, sha256)

        try:
            state.advance(log.origin, Latest(size, log.tree.root(size)), "", check)
            outcome[name] = "cosigned"
        except OldSizeMismatch as exc:
            outcome[name] = f"409 {exc.latest_size}"

    a = threading.Thread(target=request, args=("A", 11, True))
    a.start()
    a_checking.wait(5)
    request("B", 20, False)
    a.join(5)
    assert outcome == {"A": "cosigned", "B": "409 11"}
    assert state.latest(log.origin) == Latest(11, log.tree.root(11))


def test_the_witness_key_is_private_and_checked(tmp_path: Path) -> None:
    directory = tmp_path / "w"
    key = create_key(directory, "witness.example/w1")
    assert (directory / "witness.key").stat().st_mode & 0o777 == 0o600
    assert directory.stat().st_mode & 0o777 == 0o700
    assert load_key(directory).public_key == key.public_key
    with pytest.raises(Exception, match="witness_exists"):
        create_key(directory, "witness.example/w1")
    (directory / "witness.key").chmod(0o644)
    with pytest.raises(Exception, match="key_permissions"):
        load_key(directory)
