"""Both suites through the `CryptoSuite` port, and the key directory."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from dangan.core.errors import ConfigurationError, IntegrityFailure
from dangan.crypto import (
    CryptoSuite,
    IntlSuite,
    SmSuite,
    hash_with,
    init_keys,
    key_info,
    load_suite,
    new_hasher,
    verifier_for,
    verify_signature,
)

SUITES = ["sm", "intl"]
DATA = "归档文件 archival record".encode()


def _fresh(name: str) -> SmSuite | IntlSuite:
    return SmSuite.generate() if name == "sm" else IntlSuite.generate()


@pytest.fixture(params=SUITES)
def suite(request: pytest.FixtureRequest) -> CryptoSuite:
    s: CryptoSuite = _fresh(request.param)
    return s


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def test_names_match_the_suite(suite: CryptoSuite) -> None:
    expected = {
        "sm": ("sm3", "sm2-sm3", "sm4-gcm"),
        "intl": ("sha256", "ed25519", "aes-256-gcm"),
    }[suite.name]
    assert (suite.hash_name, suite.sign_name, suite.cipher_name) == expected


def test_hash_is_32_bytes_and_incremental_matches(suite: CryptoSuite) -> None:
    h = suite.new_hasher()
    h.update(DATA[:5])
    h.update(DATA[5:])
    assert h.digest() == suite.hash(DATA) == hash_with(suite.hash_name, DATA)
    assert len(suite.hash(DATA)) == 32
    assert suite.hash(DATA) != suite.hash(DATA + b"x")


def test_sign_verify_round_trip(suite: CryptoSuite) -> None:
    sig = suite.sign(DATA)
    assert suite.verify(DATA, sig)
    assert suite.verify(DATA, sig, public_key=suite.public_key())


def test_tampered_data_or_signature_fails(suite: CryptoSuite) -> None:
    sig = suite.sign(DATA)
    assert not suite.verify(_flip(DATA, 0), sig)
    assert not suite.verify(DATA + b"\x00", sig)
    for i in (0, len(sig) // 2, len(sig) - 1):
        assert not suite.verify(DATA, _flip(sig, i))
    assert not suite.verify(DATA, sig[:-1])
    assert not suite.verify(DATA, b"")


def test_wrong_public_key_fails(suite: CryptoSuite) -> None:
    other = _fresh(suite.name)
    sig = suite.sign(DATA)
    assert not suite.verify(DATA, sig, public_key=other.public_key())
    assert not other.verify(DATA, sig)
    assert not suite.verify(DATA, sig, public_key=b"\x04" + b"\x00" * 64)  # not a point


def test_encrypt_decrypt_round_trip(suite: CryptoSuite) -> None:
    key = os.urandom(16 if suite.name == "sm" else 32)
    blob = suite.encrypt(key, DATA, aad=b"record-1")
    assert len(blob) == 12 + len(DATA) + 16
    assert DATA not in blob
    assert suite.decrypt(key, blob, aad=b"record-1") == DATA
    # a fresh nonce each time: the same plaintext never gives the same blob
    assert suite.encrypt(key, DATA) != suite.encrypt(key, DATA)
    assert suite.decrypt(key, suite.encrypt(key, b"")) == b""


def test_tampering_raises_integrity_failure(suite: CryptoSuite) -> None:
    key = os.urandom(16 if suite.name == "sm" else 32)
    blob = suite.encrypt(key, DATA, aad=b"record-1")
    cases = [
        (key, _flip(blob, 0), b"record-1"),  # nonce
        (key, _flip(blob, 20), b"record-1"),  # ciphertext
        (key, _flip(blob, len(blob) - 1), b"record-1"),  # tag
        (key, blob, b"record-2"),  # other associated data
        (os.urandom(len(key)), blob, b"record-1"),  # other key
        (key, blob[:20], b"record-1"),  # truncated
        (key, b"", b"record-1"),
    ]
    for k, b, aad in cases:
        with pytest.raises(IntegrityFailure) as err:
            suite.decrypt(k, b, aad=aad)
        assert err.value.code == "decrypt_failed"
        assert err.value.zh
        assert err.value.en


# --- key directory ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", SUITES)
def test_init_then_load(tmp_path: Path, name: str) -> None:
    key_dir = tmp_path / "keys"
    init_keys(key_dir, name)
    info = key_info(key_dir)
    suite = load_suite(key_dir, name)
    assert info["suite"] == suite.name == name
    assert (info["hash"], info["sign"], info["cipher"]) == (
        suite.hash_name,
        suite.sign_name,
        suite.cipher_name,
    )
    assert bytes.fromhex(info["public_key"]) == suite.public_key()
    assert info["created_at"].endswith("Z")
    assert len(suite.master_key()) == 32
    # a second load gives the same keys: what one process signs, the next verifies
    again = load_suite(key_dir, name)
    assert again.master_key() == suite.master_key()
    assert again.verify(DATA, suite.sign(DATA))


@pytest.mark.parametrize("name", SUITES)
def test_key_files_are_private(tmp_path: Path, name: str) -> None:
    key_dir = tmp_path / "keys"
    old = os.umask(0o022)  # a permissive umask must not leak into the key files
    try:
        init_keys(key_dir, name)
    finally:
        os.umask(old)
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    files = sorted(p.name for p in key_dir.iterdir())
    assert files == ["keys.json", "master.key", "signing.key"]
    for p in key_dir.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name
    assert len((key_dir / "signing.key").read_bytes()) == 32
    assert len((key_dir / "master.key").read_bytes()) == 32


@pytest.mark.parametrize("name", SUITES)
def test_refuses_to_overwrite(tmp_path: Path, name: str) -> None:
    key_dir = tmp_path / "keys"
    init_keys(key_dir, name)
    before = {p.name: p.read_bytes() for p in key_dir.iterdir()}
    for again in SUITES:
        with pytest.raises(ConfigurationError) as err:
            init_keys(key_dir, again)
        assert err.value.code == "keys_exist"
        assert "覆盖" in err.value.zh
        assert "overwrite" in err.value.en
    assert {p.name: p.read_bytes() for p in key_dir.iterdir()} == before


def test_refuses_to_overwrite_a_lone_key_file(tmp_path: Path) -> None:
    (tmp_path / "master.key").write_bytes(b"k" * 32)
    with pytest.raises(ConfigurationError) as err:
        init_keys(tmp_path, "sm")
    assert err.value.code == "keys_exist"
    assert (tmp_path / "master.key").read_bytes() == b"k" * 32


def test_load_with_the_wrong_suite_fails_clearly(tmp_path: Path) -> None:
    init_keys(tmp_path / "sm", "sm")
    init_keys(tmp_path / "intl", "intl")
    with pytest.raises(ConfigurationError) as err:
        load_suite(tmp_path / "sm", "intl")
    assert err.value.code == "key_suite_mismatch"
    assert "'sm'" in err.value.en
    assert "'intl'" in err.value.en
    assert "“sm”" in err.value.zh
    with pytest.raises(ConfigurationError) as err:
        load_suite(tmp_path / "intl", "sm")
    assert err.value.code == "key_suite_mismatch"


def test_unknown_suite_name(tmp_path: Path) -> None:
    for call in (init_keys, load_suite):
        with pytest.raises(ConfigurationError) as err:
            call(tmp_path, "rsa")
        assert err.value.code == "unknown_suite"
    assert list(tmp_path.iterdir()) == []


def test_missing_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as err:
        load_suite(tmp_path / "nowhere", "sm")
    assert err.value.code == "keys_missing"
    assert "dangan init" in err.value.zh
    assert "dangan init" in err.value.en
    init_keys(tmp_path / "k", "intl")
    (tmp_path / "k" / "master.key").unlink()
    with pytest.raises(ConfigurationError) as err:
        load_suite(tmp_path / "k", "intl")
    assert err.value.code == "keys_missing"


@pytest.mark.parametrize("name", SUITES)
def test_corrupt_keys(tmp_path: Path, name: str) -> None:
    key_dir = tmp_path / "keys"
    init_keys(key_dir, name)
    signing = key_dir / "signing.key"
    good = signing.read_bytes()

    signing.write_bytes(good[:31])  # truncated
    with pytest.raises(ConfigurationError) as err:
        load_suite(key_dir, name)
    assert err.value.code == "keys_corrupt"

    signing.write_bytes(_flip(good, 31))  # another key: no longer matches the public key
    with pytest.raises(ConfigurationError) as err:
        load_suite(key_dir, name)
    assert err.value.code == "keys_corrupt"
    assert "public key" in err.value.en

    signing.write_bytes(good)
    meta = key_dir / "keys.json"
    meta.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigurationError) as err:
        load_suite(key_dir, name)
    assert err.value.code == "keys_corrupt"


def test_other_users_may_not_read_the_keys(tmp_path: Path) -> None:
    init_keys(tmp_path, "sm")
    os.chmod(tmp_path / "signing.key", 0o644)
    with pytest.raises(ConfigurationError) as err:
        load_suite(tmp_path, "sm")
    assert err.value.code == "key_permissions"
    assert "chmod 600" in err.value.en


def test_keys_json_is_plain_readable_metadata(tmp_path: Path) -> None:
    init_keys(tmp_path, "sm")
    info = json.loads((tmp_path / "keys.json").read_text(encoding="utf-8"))
    assert info["format"] == 1
    assert len(bytes.fromhex(info["public_key"])) == 65  # 04 || X || Y
    # the private key stays in its own file, never in the descriptive metadata
    secret = (tmp_path / "signing.key").read_bytes().hex()
    assert secret not in (tmp_path / "keys.json").read_text(encoding="utf-8")


# --- outside party: public key and algorithm names only -------------------------------------


@pytest.mark.parametrize("name", SUITES)
def test_standalone_verify_with_public_key_only(tmp_path: Path, name: str) -> None:
    init_keys(tmp_path, name)
    signer = load_suite(tmp_path, name)
    sig = signer.sign(DATA)
    # what a proof carries: algorithm names and the published public key
    info = key_info(tmp_path)
    public = bytes.fromhex(info["public_key"])
    assert verify_signature(info["sign"], public, DATA, sig)
    assert not verify_signature(info["sign"], public, DATA + b"!", sig)
    assert not verify_signature(info["sign"], public, DATA, _flip(sig, 10))
    assert not verify_signature(info["sign"], public[:-1], DATA, sig)
    assert hash_with(info["hash"], DATA) == signer.hash(DATA)
    # the (public_key, data, signature) callable the ledger's proof checker takes
    assert verifier_for(info["sign"])(public, DATA, sig)


def test_standalone_unknown_algorithms() -> None:
    with pytest.raises(ConfigurationError) as err:
        verify_signature("rsa-pss", b"k", b"d", b"s")
    assert err.value.code == "unknown_algorithm"
    with pytest.raises(ConfigurationError):
        verifier_for("SM2")  # names are exact, as written into proofs
    with pytest.raises(ConfigurationError):
        hash_with("md5", b"d")
    with pytest.raises(ConfigurationError):
        new_hasher("sha1")


def test_signatures_do_not_cross_suites() -> None:
    sm, intl = SmSuite.generate(), IntlSuite.generate()
    assert not verify_signature("ed25519", intl.public_key(), DATA, sm.sign(DATA))
    assert not verify_signature("sm2-sm3", sm.public_key(), DATA, intl.sign(DATA))
