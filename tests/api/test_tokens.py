"""System tokens: issue, refuse, revoke, scopes, rate limits — and the ledger trail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from dangan.access.domain import token_id_of
from dangan.access.identify import authenticate_token
from dangan.access.services import list_tokens, revoke_token
from dangan.adapters.ratelimit import SlidingWindowLimiter
from dangan.bootstrap import Container
from dangan.cli.main import app as cli
from dangan.core.errors import RateLimitedError, UnauthenticatedError
from dangan.ledger.models import LedgerEntry
from dangan.web.errors import status_for
from tests.api.conftest import TestClient, bearer, body
from tests.archive_kit import counts
from tests.people_kit import CONSOLE, issue_token

URL = "/api/v1/submissions"


def events(c: Container) -> list[dict[str, object]]:
    with c.sessions() as s:
        return [
            json.loads(e) for e in s.scalars(select(LedgerEntry.event).order_by(LedgerEntry.seq))
        ]


def _refused(r: object, status: int, code: str) -> None:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    problem = r.json()  # type: ignore[attr-defined]
    assert problem["code"] == code
    assert problem["zh"]
    assert problem["en"]


@pytest.mark.parametrize(
    ("header", "status", "code"),
    [
        ({}, 401, "token_missing"),
        ({"Authorization": "Bearer nonsense"}, 401, "token_invalid"),
        ({"Authorization": "Bearer dgn_0123456789abcdef_forged"}, 401, "token_invalid"),
        ({"Authorization": "Basic b2E6b2E="}, 401, "token_missing"),
    ],
)
def test_bad_tokens_are_refused_and_nothing_archived(
    api: TestClient, instance: Container, header: dict[str, str], status: int, code: str
) -> None:
    r = api.post(URL, headers=header, **body())
    _refused(r, status, code)
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert counts(instance)[0] == 0
    kinds = [e["type"] for e in events(instance)]
    assert not [k for k in kinds if str(k).startswith("record.")]
    assert ("auth.token_denied" in kinds) == (code != "token_missing")


def test_revoked_token_is_refused(api: TestClient, instance: Container, token: str) -> None:
    tid = token_id_of(token)
    assert tid
    revoke_token(instance, CONSOLE, tid)
    _refused(api.post(URL, headers=bearer(token), **body()), 401, "token_revoked")
    assert counts(instance)[0] == 0
    denied = [e for e in events(instance) if e["type"] == "auth.token_denied"]
    assert denied[-1]["actor"] == "system:oa"
    assert denied[-1]["details"] == {"reason": "token_revoked"}


def test_wrong_scope_is_forbidden(api: TestClient, instance: Container) -> None:
    reader, _ = issue_token(instance, "oa", ["read_catalogue"])
    _refused(api.post(URL, headers=bearer(reader), **body()), 403, "scope_missing")
    assert counts(instance)[0] == 0


def test_rate_limit_answers_429_with_retry_after(api: TestClient, instance: Container) -> None:
    tok, _ = issue_token(instance, "oa", ["read_catalogue"], rate=2)
    for _ in range(2):
        assert api.get(f"{URL}/none", headers=bearer(tok)).status_code == 404
    r = api.get(f"{URL}/none", headers=bearer(tok))
    _refused(r, 429, "rate_limited")
    assert 1 <= int(r.headers["retry-after"]) <= 60


def test_create_and_revoke_are_in_the_ledger(instance: Container) -> None:
    plaintext, token = issue_token(instance, "oa", ["submit"], rate=10)
    assert plaintext.startswith(f"dgn_{token.id}_")
    assert plaintext not in json.dumps(events(instance))
    assert authenticate_token(instance, plaintext, "submit").id == token.id
    revoke_token(instance, CONSOLE, token.id)
    revoke_token(instance, CONSOLE, token.id)  # twice: harmless, logged once
    kinds = [e["type"] for e in events(instance)]
    assert kinds.count("system.token_created") == 1
    assert kinds.count("system.token_revoked") == 1
    with pytest.raises(UnauthenticatedError) as err:
        authenticate_token(instance, plaintext, "submit")
    assert (status_for(err.value), err.value.code) == (401, "token_revoked")
    assert [t.revoked_at is not None for t in list_tokens(instance, CONSOLE)] == [True]


def test_unknown_scope_is_refused(instance: Container) -> None:
    from dangan.core.errors import InvalidInputError

    with pytest.raises(InvalidInputError):
        issue_token(instance, "oa", ["admin"])
    with pytest.raises(InvalidInputError):
        issue_token(instance, "../oa", ["submit"])


def test_token_parsing() -> None:
    assert token_id_of("dgn_0123456789abcdef_se_cr-et") == "0123456789abcdef"
    for bad in ("", "dgn_", "dgn_short_x", "xyz_0123456789abcdef_x", "dgn_0123456789abcdef_"):
        assert token_id_of(bad) is None


def test_sliding_window() -> None:
    now = [0.0]
    limiter = SlidingWindowLimiter(clock=lambda: now[0])
    limiter.check("t", 2)
    limiter.check("t", 2)
    with pytest.raises(RateLimitedError) as err:
        limiter.check("t", 2)
    assert status_for(err.value) == 429
    assert err.value.retry_after == 60
    now[0] = 60.5
    limiter.check("t", 2)
    limiter.check("other", 1)
    limiter.check("free", 0)


def test_token_cli(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.archive_kit import new_instance

    new_instance(tmp_path / "cli", sqlite_url).close()
    monkeypatch.setenv("DANGAN_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("DANGAN_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    made = runner.invoke(
        cli, ["token", "create", "--system", "oa", "--scope", "submit", "--scope", "read_catalogue"]
    )
    assert made.exit_code == 0, made.output
    plaintext = made.output.strip().splitlines()[-1]
    tid = token_id_of(plaintext)
    assert tid
    listed = runner.invoke(cli, ["token", "list"])
    assert tid in listed.output
    assert runner.invoke(cli, ["token", "revoke", tid]).exit_code == 0
    assert runner.invoke(cli, ["token", "revoke", "nope"]).exit_code == 2
    bad = runner.invoke(cli, ["token", "create", "--system", "oa", "--scope", "admin"])
    assert bad.exit_code == 2
