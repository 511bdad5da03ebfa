"""People sign in over HTTP: cookies, Bearer sessions, lockout, CSRF, expiry and TOTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from sqlalchemy import select, update

from dangan.access.identity import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from dangan.access.models import AuthSession, User
from dangan.bootstrap import Container
from dangan.core.clock import utcnow
from dangan.ledger.models import LedgerEntry
from tests.api.conftest import TestClient, bearer
from tests.archive_kit import new_instance
from tests.people_kit import admins, department, issue_token, person

PASSWORD = "Correct-Horse-9-battery"
SIGN_IN = "/api/v1/auth/sign-in"
SIGN_OUT = "/api/v1/auth/sign-out"
ME = "/api/v1/me"


def events(c: Container) -> list[dict[str, object]]:
    with c.sessions() as s:
        return [
            json.loads(e) for e in s.scalars(select(LedgerEntry.event).order_by(LedgerEntry.seq))
        ]


def make_staff(c: Container, username: str = "alice") -> User:
    admin = admins(c, PASSWORD)["sysadmin"]
    dept = department(c, admin, "BGS", "办公室")
    uid = person(
        c,
        admin,
        None,
        username,
        department=dept,
        role="staff",
        password=PASSWORD,
        display_name="张三",
    )
    with c.sessions() as s:
        user = s.get(User, uid)
    assert user is not None
    return user


@pytest.fixture
def web(instance: Container, make_api: Callable[..., TestClient]) -> TestClient:
    # HTTPS so the client sends back the Secure cookies the default settings set.
    return make_api(instance, base_url="https://testserver")


def sign_in(web: TestClient, username: str = "alice", password: str = PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    return web.post(SIGN_IN, json={"username": username, "password": password, **extra})


def refused(r: object, status: int, code: str) -> dict[str, object]:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body: dict[str, object] = r.json()  # type: ignore[attr-defined]
    assert body["code"] == code
    assert body["zh"]
    assert body["en"]
    return body


def test_sign_in_sets_cookies_and_me_works_with_cookie_and_bearer(
    web: TestClient, instance: Container
) -> None:
    user = make_staff(instance)
    r = sign_in(web)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user"]["id"] == user.id
    assert body["user"]["username"] == "alice"
    assert body["user"]["display_name"] == "张三"
    assert body["user"]["roles"] == ["staff"]
    assert body["user"]["clearance"] == "公开"
    assert body["user"]["department_id"] == user.department_id
    cookies = {c.split("=", 1)[0]: c for c in r.headers.get_list("set-cookie")}
    session = cookies[SESSION_COOKIE].lower()
    assert "httponly" in session
    assert "samesite=strict" in session
    assert "secure" in session
    assert "path=/" in session
    csrf = cookies[CSRF_COOKIE].lower()
    assert "httponly" not in csrf
    assert "samesite=strict" in csrf
    assert web.cookies.get(CSRF_COOKIE) == body["csrf_token"]

    me = web.get(ME)
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "alice"

    web.cookies.clear()
    assert web.get(ME).status_code == 401
    me = web.get(ME, headers=bearer(body["session_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == user.id

    ok = [e for e in events(instance) if e["type"] == "auth.sign_in"]
    assert ok[-1]["outcome"] == "success"
    details = ok[-1]["details"]
    assert isinstance(details, dict)
    assert details["ip"] == "testclient"
    assert "user_agent" in details


def test_wrong_password_and_unknown_user_look_the_same(
    web: TestClient, instance: Container
) -> None:
    make_staff(instance)
    wrong = refused(sign_in(web, password="Not-The-Password-1"), 401, "sign_in_failed")
    unknown = refused(sign_in(web, username="nobody"), 401, "sign_in_failed")
    assert wrong == unknown
    assert SESSION_COOKIE not in web.cookies


def test_lockout_after_five_failures(web: TestClient, instance: Container) -> None:
    make_staff(instance)
    bodies = [
        refused(sign_in(web, password=f"Wrong-Pass-{i}"), 401, "sign_in_failed") for i in range(5)
    ]
    locked = refused(sign_in(web), 401, "sign_in_failed")  # the right password, still refused
    assert locked == bodies[0]
    evs = events(instance)
    failures = [e for e in evs if e["type"] == "auth.sign_in" and e["outcome"] == "failure"]
    assert len(failures) == 6
    reasons = [f["details"]["reason"] for f in failures]  # type: ignore[index]
    assert reasons == ["bad_password"] * 5 + ["locked"]
    assert [e for e in evs if e["type"] == "auth.lockout" and e["actor"] == "alice"]


def test_sign_out_revokes_the_session(web: TestClient, instance: Container) -> None:
    make_staff(instance)
    body = sign_in(web).json()
    r = web.post(SIGN_OUT, headers={CSRF_HEADER: body["csrf_token"]})
    assert r.status_code == 204, r.text
    assert SESSION_COOKIE not in web.cookies  # the answer cleared the cookies
    web.cookies.set(SESSION_COOKIE, body["session_token"])
    refused(web.get(ME), 401, "not_signed_in")
    refused(web.get(ME, headers=bearer(body["session_token"])), 401, "not_signed_in")
    assert [e for e in events(instance) if e["type"] == "auth.sign_out"]


def test_cookie_posts_need_the_csrf_header(web: TestClient, instance: Container) -> None:
    make_staff(instance)
    body = sign_in(web).json()
    refused(web.post("/api/v1/me/totp"), 403, "csrf_failed")
    refused(web.post("/api/v1/me/totp", headers={CSRF_HEADER: "forged"}), 403, "csrf_failed")
    refused(web.post(SIGN_OUT), 403, "csrf_failed")
    r = web.post("/api/v1/me/totp", headers={CSRF_HEADER: body["csrf_token"]})
    assert r.status_code == 200, r.text
    assert r.json()["otpauth_uri"].startswith("otpauth://totp/")
    # Bearer callers are not exposed to CSRF and need no header.
    web.cookies.clear()
    assert web.post("/api/v1/me/totp", headers=bearer(body["session_token"])).status_code == 200


@pytest.mark.parametrize("cookie", ["garbage", "x" * 43, ""])
def test_forged_session_cookie_is_refused(
    web: TestClient, instance: Container, cookie: str
) -> None:
    make_staff(instance)
    web.cookies.set(SESSION_COOKIE, cookie)
    refused(web.get(ME), 401, "not_signed_in")


def test_system_token_is_not_a_person(web: TestClient, instance: Container) -> None:
    plaintext, _ = issue_token(instance, "oa", ["submit"])
    refused(web.get(ME, headers=bearer(plaintext)), 401, "not_signed_in")


def test_idle_session_expires(web: TestClient, instance: Container) -> None:
    make_staff(instance)
    body = sign_in(web).json()
    assert web.get(ME).status_code == 200
    with instance.sessions.begin() as s:
        s.execute(update(AuthSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    refused(web.get(ME), 401, "not_signed_in")
    refused(web.get(ME, headers=bearer(body["session_token"])), 401, "not_signed_in")


def test_idle_limit_follows_settings(
    tmp_path: Path, db_url: str, make_api: Callable[..., TestClient]
) -> None:
    c = new_instance(
        tmp_path / "short", db_url, session={"idle_minutes": 5, "cookie_secure": False}
    )
    try:
        web = make_api(c)  # plain http: cookie_secure is off here
        make_staff(c)
        r = sign_in(web)
        assert r.status_code == 200
        assert all("secure" not in h.lower() for h in r.headers.get_list("set-cookie"))
        with c.sessions.begin() as s:
            s.execute(update(AuthSession).values(last_seen_at=utcnow() - timedelta(minutes=6)))
        refused(web.get(ME), 401, "not_signed_in")
    finally:
        c.close()


def test_totp_enrol_confirm_then_required(web: TestClient, instance: Container) -> None:
    make_staff(instance)
    token = sign_in(web).json()["session_token"]
    web.cookies.clear()
    uri = web.post("/api/v1/me/totp", headers=bearer(token)).json()["otpauth_uri"]
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    totp = pyotp.TOTP(secret)
    bad = web.post("/api/v1/me/totp/confirm", headers=bearer(token), json={"code": "000000"})
    if totp.now() != "000000":
        refused(bad, 422, "invalid_input")
    ok = web.post("/api/v1/me/totp/confirm", headers=bearer(token), json={"code": totp.now()})
    assert ok.status_code == 200, ok.text
    assert web.get(ME, headers=bearer(token)).json()["totp_enabled"] is True

    refused(sign_in(web), 401, "totp_required")
    assert sign_in(web, totp_code="12345").status_code == 422  # not a code at all
    wrong = "000000" if totp.now() != "000000" else "111111"
    refused(sign_in(web, totp_code=wrong), 401, "sign_in_failed")
    # The code of the next time step: the current one was spent on confirming.
    code = totp.at(utcnow() + timedelta(seconds=30))
    r = sign_in(web, totp_code=code)
    assert r.status_code == 200, r.text
    refused(sign_in(web, totp_code=code), 401, "sign_in_failed")  # no replay
