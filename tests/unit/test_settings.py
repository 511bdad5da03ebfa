"""Settings: a TOML file, DANGAN_* variables over it, validated once with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from dangan.core.errors import ConfigurationError
from dangan.settings import load_settings


@pytest.fixture
def toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "dangan.toml"
    path.write_text(
        'data_dir = "/srv/a"\ncrypto_suite = "intl"\n'
        '[storage]\nroots = ["x", "/abs/y"]\nmax_file_bytes = 1000\n'
        "[arrangement]\npiece_width = 5\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DANGAN_CONFIG", str(path))
    for var in ("DANGAN_DATA_DIR", "DANGAN_CRYPTO_SUITE", "DANGAN_STORAGE__MAX_FILE_BYTES"):
        monkeypatch.delenv(var, raising=False)
    return path


def test_toml_file_is_read(toml: Path) -> None:
    s = load_settings()
    assert s.crypto_suite == "intl"
    assert s.arrangement.piece_width == 5
    assert s.resolved_storage_roots == [Path("/srv/a/x"), Path("/abs/y")]
    assert s.resolved_database_url == "sqlite:////srv/a/dangan.db"
    assert s.resolved_key_dir == Path("/srv/a/keys")


def test_environment_overrides_file(toml: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DANGAN_CRYPTO_SUITE", "sm")
    monkeypatch.setenv("DANGAN_STORAGE__MAX_FILE_BYTES", "42")
    s = load_settings()
    assert s.crypto_suite == "sm"
    assert s.storage.max_file_bytes == 42
    assert s.storage.roots == ["x", "/abs/y"]  # the rest of the section still from the file


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"crypto_suite": "rsa"}, "crypto_suite"),
        ({"storage": {"roots": ["only-one"]}}, "storage.roots"),
        ({"storage": {"max_file_bytes": 0}}, "storage.max_file_bytes"),
        ({"default_fonds": "Q999"}, "default_fonds"),
        # longer than the element set's 全宗号 (fonds_identifier, 4): archival codes would not fit
        ({"fonds": [{"code": "Z1090", "name": "x"}], "default_fonds": "Z1090"}, "fonds.0.code"),
        ({"no_such_setting": 1}, "no_such_setting"),
        ({"web": {"max_request_bytess": 1}}, "web.max_request_bytess"),
        ({"web": {"async_threshold_bytes": -1}}, "web.async_threshold_bytes"),
    ],
)
def test_bad_values_name_the_field(toml: Path, overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigurationError) as exc:
        load_settings(**overrides)
    assert exc.value.code == "bad_settings"
    assert field in exc.value.en
    assert "配置有误" in exc.value.zh


def test_fonds_codes_are_as_long_as_the_fonds_identifier_element(toml: Path) -> None:
    from dangan.metadata.schema import ws_schema

    limit = ws_schema()["fonds_identifier"].max_length
    assert limit is not None
    longest = "A" * limit
    assert load_settings(fonds=[{"code": longest, "name": "x"}], default_fonds=longest)
    with pytest.raises(ConfigurationError):
        load_settings(fonds=[{"code": longest + "A", "name": "x"}], default_fonds=longest + "A")
