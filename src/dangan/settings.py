"""Settings: one TOML file plus `DANGAN_*` environment variables, validated once.

Order of precedence (highest first): environment variables (`DANGAN_DATABASE_URL`, nested
fields with `__`, e.g. `DANGAN_STORAGE__MAX_FILE_BYTES`), the TOML file named by `DANGAN_CONFIG`
(default `./dangan.toml` when present), then the embedded defaults below — which need no
services: SQLite and two local storage roots under `data_dir`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from dangan.core.errors import ConfigurationError


class Section(BaseModel):
    """A settings section: a misspelt key is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class FondsSettings(Section):
    # 全宗号: at most 4 letters or digits, as the element set's fonds_identifier (DA/T 22)
    code: str = Field(pattern=r"^[A-Za-z0-9]{1,4}$")
    name: str


class CategorySettings(Section):
    code: str = Field(pattern=r"^[A-Z]{2}$")
    name: str
    # An element-set TOML file for this category; None = the packaged one (文书 WS).
    schema_file: Path | None = None


class StorageSettings(Section):
    # Relative roots resolve against data_dir; at least two for preservation.
    roots: list[str] = Field(default_factory=lambda: ["roots/primary", "roots/secondary"])
    max_file_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    max_files_per_submission: int = Field(default=100, gt=0)

    @field_validator("roots")
    @classmethod
    def _two_roots(cls, roots: list[str]) -> list[str]:
        if len(roots) < 2:
            raise ValueError("at least two storage roots are required (保存至少需要两个存储根)")
        if len(set(roots)) != len(roots):
            raise ValueError("storage roots must be distinct")
        return roots


class ArrangementSettings(Section):
    # DA/T 22-2015 default. DA/T 13-2022 variant:
    # "{fonds}-{category}·{year}·{retention}·{org}-{piece}"
    code_template: str = "{fonds}-{category}·{year}-{retention}-{org}-{piece}"
    piece_width: int = Field(default=4, ge=1, le=8)
    retention_schedule: str | None = None  # path to a TOML schedule; None = packaged default
    min_confidence: float = Field(default=0.6, ge=0.0, le=1.0)


class OidcSettings(Section):
    """Single sign-on through an OpenID Connect provider (authorization code flow + PKCE)."""

    enabled: bool = False
    issuer: str | None = None  # discovery at {issuer}/.well-known/openid-configuration
    client_id: str | None = None
    client_secret: str | None = None
    redirect_uri: str | None = None  # .../api/v1/auth/oidc/callback as registered
    scopes: list[str] = Field(default_factory=lambda: ["openid", "profile", "email"])
    auto_provision: bool = False  # unknown subjects become staff in the default department
    default_department_code: str | None = None
    allowed_clock_skew: int = Field(default=60, ge=0, le=600)  # seconds
    http_timeout: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> OidcSettings:
        if self.enabled:
            missing = [n for n in ("issuer", "client_id", "redirect_uri") if not getattr(self, n)]
            if missing:
                raise ValueError(f"oidc is enabled but {', '.join(missing)} is not set")
            if "openid" not in self.scopes:
                raise ValueError("oidc scopes must include 'openid'")
        return self


class SessionSettings(Section):
    idle_minutes: int = Field(default=30, gt=0)
    absolute_hours: int = Field(default=12, gt=0)
    cookie_secure: bool = True  # off only for plain-HTTP development and tests


class WebSettings(Section):
    """Limits of the HTTP API (`[web]`, or `DANGAN_WEB__MAX_REQUEST_BYTES` and so on)."""

    max_request_bytes: int = Field(default=2048 * 1024 * 1024, gt=0)
    # Uploads larger than this are archived in the background: 202 and a status URL.
    async_threshold_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    callback_attempts: int = Field(default=5, ge=1, le=20)
    callback_backoff_seconds: float = Field(default=1.0, ge=0)
    background_workers: int = Field(default=2, ge=1, le=64)


class WitnessSettings(Section):
    """A witness that co-signs our checkpoints (c2sp.org/tlog-witness)."""

    name: str = Field(min_length=1, max_length=200)  # its key name, e.g. witness.example/w1
    url: str  # its submission prefix: POST {url}/add-checkpoint
    public_key: str = Field(pattern=r"^[0-9a-fA-F]{64}$")  # Ed25519, hex


class LedgerSettings(Section):
    """The audit ledger: group commit and witnesses (`[ledger]`)."""

    # A batch of appends is sequenced, signed and copied to storage together: at most
    # `batch_max` entries, gathered for at most `batch_linger_ms` once the first waits.
    batch_max: int = Field(default=256, ge=1, le=10_000)
    batch_linger_ms: float = Field(default=2.0, ge=0, le=1000)
    witnesses: list[WitnessSettings] = Field(default_factory=list)
    # How many witnesses must co-sign the latest checkpoint for `ledger verify` to pass.
    # Appends do not wait for them: a witness outage leaves checkpoints unwitnessed until
    # the next one is cosigned (with a proof from the last cosigned size).
    witness_quorum: int = Field(default=0, ge=0)
    witness_timeout: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _quorum_possible(self) -> LedgerSettings:
        if self.witness_quorum > len(self.witnesses):
            raise ValueError("witness_quorum exceeds the number of witnesses")
        return self


def _default_fonds() -> list[FondsSettings]:
    return [FondsSettings(code="Z109", name="示范省档案局")]


def _default_categories() -> list[CategorySettings]:
    return [CategorySettings(code="WS", name="文书")]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DANGAN_", env_nested_delimiter="__", extra="forbid"
    )

    data_dir: Path = Path("var")
    database_url: str | None = None  # default: SQLite file in data_dir
    crypto_suite: Literal["sm", "intl"] = "sm"
    key_dir: Path | None = None  # default: data_dir/keys — never inside the database
    instance_name: str = "dangan"
    default_fonds: str = "Z109"
    fonds: list[FondsSettings] = Field(default_factory=_default_fonds)
    categories: list[CategorySettings] = Field(default_factory=_default_categories)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    arrangement: ArrangementSettings = Field(default_factory=ArrangementSettings)
    oidc: OidcSettings = Field(default_factory=OidcSettings)
    session: SessionSettings = Field(default_factory=SessionSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)

    @model_validator(mode="after")
    def _known_default_fonds(self) -> Settings:
        if self.default_fonds not in {f.code for f in self.fonds}:
            raise ValueError(f"default_fonds {self.default_fonds!r} is not among the fonds")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = os.environ.get("DANGAN_CONFIG", "dangan.toml")
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
        )

    # Derived locations -------------------------------------------------------------------
    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir / 'dangan.db'}"

    @property
    def resolved_key_dir(self) -> Path:
        return (self.key_dir or self.resolved_data_dir / "keys").expanduser().resolve()

    @property
    def resolved_storage_roots(self) -> list[Path]:
        out = []
        for r in self.storage.roots:
            p = Path(r).expanduser()
            out.append((p if p.is_absolute() else self.resolved_data_dir / p).resolve())
        return out


def load_settings(**overrides: object) -> Settings:
    """Validate settings once; a bad value is a ConfigurationError naming the field."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(
            code="bad_settings", zh=f"配置有误：{lines}", en=f"invalid settings: {lines}"
        ) from exc
