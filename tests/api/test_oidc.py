"""Single sign-on against a real OpenID provider (oidc-provider-mock) on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select

from dangan.access.identity import SESSION_COOKIE
from dangan.access.models import RoleAssignment, User
from dangan.access.oidc import OidcClient
from dangan.access.oidc_state import STATE_COOKIE
from dangan.bootstrap import Container
from dangan.ledger.models import LedgerEntry
from tests.api.conftest import TestClient
from tests.archive_kit import new_instance
from tests.people_kit import admins, department, person

PASSWORD = "Correct-Horse-9-battery"
REDIRECT = "http://testserver/api/v1/auth/oidc/callback"
CLIENT_ID = "dangan-test"
# The mock provider (not Dangan) still uses authlib's deprecated JOSE API; the filters are
# process-wide, so they also cover its server thread while each test runs.
pytestmark = [
    pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:authlib.jose module is deprecated"),
]


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """The mock provider's issuer URL; it serves until the module's tests are done."""
    import werkzeug.serving

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it imports the deprecated authlib.jose
        import oidc_provider_mock

        server = werkzeug.serving.make_server(
            "127.0.0.1", 0, oidc_provider_mock.app(require_nonce=True), threaded=True
        )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def sso_instance(tmp_path: Path, db_url: str, issuer: str, **oidc: Any) -> Container:
    return new_instance(
        tmp_path / "sso",
        db_url,
        session={"cookie_secure": False},
        oidc={
            "enabled": True,
            "issuer": issuer,
            "client_id": CLIENT_ID,
            "client_secret": "s3cret-value",
            "redirect_uri": REDIRECT,
            **oidc,
        },
    )


@pytest.fixture
def sso(tmp_path: Path, db_url: str, provider: str) -> Iterator[Container]:
    c = sso_instance(tmp_path, db_url, provider)
    yield c
    c.close()


@pytest.fixture
def web(sso: Container, make_api: Callable[..., TestClient]) -> TestClient:
    return make_api(sso)


def events(c: Container, type_: str) -> list[dict[str, Any]]:
    with c.sessions() as s:
        found = [json.loads(e) for e in s.scalars(select(LedgerEntry.event))]
    return [e for e in found if e["type"] == type_]


def linked_user(c: Container, sub: str = "alice-sub") -> int:
    """An SSO-only account (no password) linked to `sub`; returns its id."""
    admin = admins(c, PASSWORD)["sysadmin"]
    return person(
        c,
        admin,
        None,
        "alice",
        department=None,
        role=None,
        password=None,
        display_name="张三",
        oidc_subject=sub,
    )


def to_provider(web: TestClient) -> tuple[str, dict[str, str]]:
    """Start sign-on; returns the provider's authorize URL and its query parameters."""
    r = web.get("/api/v1/auth/oidc/login", follow_redirects=False)
    assert r.status_code == 302, r.text
    assert STATE_COOKIE in r.headers["set-cookie"]
    assert "samesite=lax" in r.headers["set-cookie"].lower()
    loc = r.headers["location"]
    params = {k: v[0] for k, v in parse_qs(urlparse(loc).query).items()}
    assert params["code_challenge_method"] == "S256"
    assert params["client_id"] == CLIENT_ID
    assert params["state"]
    assert params["nonce"]
    return loc, params


def at_provider(loc: str, form: dict[str, str]) -> str:
    """Submit the provider's sign-in form; returns the callback path with its query."""
    with httpx.Client() as idp:
        page = idp.get(loc)
        assert page.status_code == 200, page.text
        back = idp.post(loc, data=form)
    assert back.status_code == 302, back.text
    cb = urlparse(back.headers["location"])
    assert f"{cb.scheme}://{cb.netloc}{cb.path}" == REDIRECT
    return f"{cb.path}?{cb.query}"


def put_state(web: TestClient, value: str) -> None:
    """Replace the state cookie, as a browser (or an attacker's) would present it."""
    for c in list(web.cookies.jar):
        if c.name == STATE_COOKIE:
            web.cookies.delete(c.name, domain=c.domain, path=c.path)
    web.cookies.set(STATE_COOKIE, value, domain="testserver.local", path="/api/v1/auth/oidc")


def callback(web: TestClient, path: str, accept_json: bool = True) -> httpx.Response:
    headers = {"Accept": "application/json"} if accept_json else {}
    return web.get(path, headers=headers, follow_redirects=False)


def sso_sign_in(web: TestClient, sub: str) -> httpx.Response:
    loc, _ = to_provider(web)
    return callback(web, at_provider(loc, {"sub": sub}))


def refused(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == code
    assert body["zh"]
    assert body["en"]
    assert SESSION_COOKIE not in web_cookies(r)


def web_cookies(r: httpx.Response) -> set[str]:
    return {h.split("=", 1)[0] for h in r.headers.get_list("set-cookie") if "max-age=0" not in h}


def test_sso_signs_in_the_linked_user(web: TestClient, sso: Container) -> None:
    user_id = linked_user(sso)
    r = sso_sign_in(web, "alice-sub")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user"]["id"] == user_id
    assert body["session_token"]
    assert web.cookies.get(SESSION_COOKIE) == body["session_token"]
    assert web.get("/api/v1/me").json()["username"] == "alice"
    ok = [e for e in events(sso, "auth.sign_in") if e["outcome"] == "success"]
    assert ok[-1]["actor"] == "alice"
    assert ok[-1]["details"]["method"] == "oidc"

    # A browser (no JSON asked for) is sent home with the cookies.
    loc, _ = to_provider(web)
    home = callback(web, at_provider(loc, {"sub": "alice-sub"}), accept_json=False)
    assert home.status_code == 302
    assert home.headers["location"] == "/"
    assert SESSION_COOKIE in web_cookies(home)


def test_tampered_and_replayed_state_are_refused(web: TestClient, sso: Container) -> None:
    linked_user(sso)
    loc, params = to_provider(web)
    path = at_provider(loc, {"sub": "alice-sub"})
    refused(
        callback(web, path.replace(params["state"], params["state"][:-2] + "xx")),
        400,
        "sso_state_invalid",
    )
    # The failed attempt spent the state cookie: the genuine callback now fails too.
    refused(callback(web, path), 400, "sso_state_invalid")

    loc, _ = to_provider(web)
    path = at_provider(loc, {"sub": "alice-sub"})
    cookie = web.cookies.get(STATE_COOKIE)
    assert cookie
    assert callback(web, path).status_code == 200
    refused(callback(web, path), 400, "sso_state_invalid")  # replay: cookie gone
    put_state(web, cookie)
    refused(callback(web, path), 401, "sso_code_rejected")  # replay: code spent at provider

    # A forged cookie (state of an attacker's own) does not verify.
    loc, params = to_provider(web)
    path = at_provider(loc, {"sub": "alice-sub"})
    forged = web.cookies.get(STATE_COOKIE)
    assert forged
    put_state(web, "A" + forged[1:])
    refused(callback(web, path), 400, "sso_state_invalid")

    failures = [e for e in events(sso, "auth.sign_in") if e["outcome"] == "failure"]
    assert {f["details"]["method"] for f in failures} == {"oidc"}
    assert {f["details"]["reason"] for f in failures} == {"sso_state_invalid", "sso_code_rejected"}


def test_provider_error_is_refused(web: TestClient, sso: Container) -> None:
    loc, _ = to_provider(web)
    path = at_provider(loc, {"action": "deny"})
    assert "error=access_denied" in path
    refused(callback(web, path), 400, "sso_provider_error")
    assert events(sso, "auth.sign_in")[-1]["details"]["reason"] == "sso_provider_error"


def test_unknown_subject_is_forbidden(web: TestClient, sso: Container) -> None:
    linked_user(sso)
    refused(sso_sign_in(web, "mallory-sub"), 403, "sso_unknown_user")
    last = events(sso, "auth.sign_in")[-1]
    assert last["outcome"] == "failure"
    assert last["actor"] == "sso:mallory-sub"
    with sso.sessions() as s:
        assert s.scalar(select(User).where(User.oidc_subject == "mallory-sub")) is None


def test_auto_provision_creates_a_staff_user(
    tmp_path: Path, db_url: str, provider: str, make_api: Callable[..., TestClient]
) -> None:
    c = sso_instance(tmp_path, db_url, provider, auto_provision=True, default_department_code="BGS")
    try:
        admin = admins(c, PASSWORD)["sysadmin"]
        dept = department(c, admin, "BGS", "办公室")
        web = make_api(c)
        r = sso_sign_in(web, "bob@example.org")
        assert r.status_code == 200, r.text
        user = r.json()["user"]
        assert user["username"] == "bob@example.org"  # from the email claim
        assert user["roles"] == ["staff"]
        assert user["department_id"] == dept
        with c.sessions() as s:
            row = s.get(User, user["id"])
            assert row is not None
            assert row.oidc_subject == "bob@example.org"
            assert row.password_hash is None
            assert s.scalars(
                select(RoleAssignment.role).where(RoleAssignment.user_id == row.id)
            ).all() == ["staff"]
        created = events(c, "access.user_created")[-1]
        assert created["actor"] == "system:oidc"
        # The second sign-on finds the same account.
        again = sso_sign_in(web, "bob@example.org")
        assert again.json()["user"]["id"] == user["id"]
    finally:
        c.close()


def test_disabled_sso_answers_404(
    web: TestClient, instance: Container, make_api: Callable[..., TestClient]
) -> None:
    plain = make_api(instance)
    refused(plain.get("/api/v1/auth/oidc/login", follow_redirects=False), 404, "sso_disabled")
    refused(plain.get("/api/v1/auth/oidc/callback?code=x&state=y"), 404, "sso_disabled")


# --- id_token checks, with tokens signed by a key the test controls ----------------------

OWN_KEY = RSAKey.generate_key(2048, parameters={"kid": "test-key"})


def _claims(issuer: str, expected_nonce: str, **over: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": "alice-sub",
        "aud": CLIENT_ID,
        "exp": now + 300,
        "iat": now,
        "nonce": expected_nonce,
    }
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(claims: dict[str, Any]) -> str:
    return jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, OWN_KEY)


def _tamper(token: str) -> str:
    head, body, sig = token.split(".")
    return f"{head}.{body}.{sig[:-4]}{'AAAA' if sig[-4:] != 'AAAA' else 'BBBB'}"


def _unsigned(claims: dict[str, Any]) -> str:
    import base64

    def b64(d: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none'})}.{b64(claims)}."


CASES: dict[str, Callable[[str, str], str]] = {
    "good": lambda iss, n: _sign(_claims(iss, n)),
    "wrong_audience": lambda iss, n: _sign(_claims(iss, n, aud="someone-else")),
    "wrong_issuer": lambda iss, n: _sign(_claims(iss, n, iss="https://evil.example")),
    "expired": lambda iss, n: _sign(_claims(iss, n, exp=int(time.time()) - 3600)),
    "wrong_nonce": lambda iss, n: _sign(_claims(iss, n, nonce="other")),
    "no_nonce": lambda iss, n: _sign(_claims(iss, n, nonce=None)),
    "bad_signature": lambda iss, n: _tamper(_sign(_claims(iss, n))),
    "alg_none": lambda iss, n: _unsigned(_claims(iss, n)),
    "several_audiences_no_azp": lambda iss, n: _sign(_claims(iss, n, aud=[CLIENT_ID, "x"])),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_id_token_is_verified(
    web: TestClient,
    sso: Container,
    provider: str,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    linked_user(sso)
    loc, params = to_provider(web)
    path = at_provider(loc, {"sub": "alice-sub"})
    token = CASES[case](provider, params["nonce"])
    monkeypatch.setattr(OidcClient, "_exchange", lambda self, code, verifier: {"id_token": token})
    monkeypatch.setattr(OidcClient, "keys", lambda self, refresh=False: KeySet([OWN_KEY]))
    r = callback(web, path)
    if case == "good":
        assert r.status_code == 200, r.text
    else:
        refused(r, 401, "sso_token_invalid")
        assert events(sso, "auth.sign_in")[-1]["details"]["reason"] == "sso_token_invalid"


def test_tampered_token_from_the_real_provider_is_refused(
    web: TestClient, sso: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    linked_user(sso)
    real = OidcClient._exchange

    def tampering(self: OidcClient, code: str, verifier: str) -> dict[str, Any]:
        tokens = real(self, code, verifier)
        head, body, sig = tokens["id_token"].split(".")
        claims = json.loads(_b64d(body))
        claims["sub"] = "sysadmin-sub"
        import base64

        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        return {**tokens, "id_token": f"{head}.{forged}.{sig}"}

    monkeypatch.setattr(OidcClient, "_exchange", tampering)
    refused(sso_sign_in(web, "alice-sub"), 401, "sso_token_invalid")


def _b64d(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_login_url_carries_pkce_challenge_of_the_cookie(web: TestClient, sso: Container) -> None:
    loc, params = to_provider(web)
    assert loc.startswith(str(sso.settings.oidc.issuer))
    assert len(params["code_challenge"]) == 43  # base64url of a SHA-256
    assert set(params["scope"].split()) >= {"openid"}
    assert urlencode({"redirect_uri": REDIRECT}).split("=", 1)[1] in loc
