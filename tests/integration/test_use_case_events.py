"""Each writing use case appends one of its declared ledger events: every one of them is run
here once, by an actor allowed to, and the ledger must grow by a successful event of a
declared type. A new use case that declares events fails `test_every_writing_use_case_is_run`
until it has a line in SCENARIOS.

A scenario prepares what its use case needs (a grant to revoke, a session to end) and returns
the one call that is measured.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from dangan.access import services as access
from dangan.access.oidc import OidcClient
from dangan.bootstrap import Container
from dangan.core.clock import utcnow
from dangan.core.errors import DanganError
from dangan.intake import services as intake
from dangan.ledger.models import LedgerEntry
from dangan.records import services as records
from dangan.records.domain import IncomingFile, Submission
from dangan.usecase import Actor, use_case_info
from tests.archive_kit import (
    OPERATOR,
    UNCLASSIFIABLE,
    archivist,
    ingest,
    new_instance,
    notice,
    submitter,
    write_doc,
)
from tests.people_kit import CONSOLE, PW, SETUP, actor, department, person, sign_in_token
from tests.shape.test_use_cases import USE_CASES

Call = Callable[[], Any]
VISITOR = Actor.visitor("10.0.0.1", "pytest")


class World:
    """One instance: a notice and a queued record, two administrators, a department and a
    staff member — the auditor is left for `bootstrap_account` to create."""

    def __init__(self, c: Container, folder: Path) -> None:
        self.c = c
        self.folder = folder
        self.rid = ingest(c, notice(folder, 1))["record_id"]
        path = write_doc(folder, "misc.txt", "杂项材料正文")
        queued = Submission("oa", "Q1", dict(UNCLASSIFIABLE), [IncomingFile(path, path.name)])
        self.queued = ingest(c, queued)["record_id"]
        for role in ("sysadmin", "security_admin"):
            access.bootstrap_account(
                c, SETUP, username=role.replace("_", ""), display_name=role, password=PW, role=role
            )
        self.admin = actor(c, "sysadmin")
        self.security = actor(c, "securityadmin")
        self.dept = department(c, self.admin, "BGS", "办公室")
        self.staff = person(c, self.admin, None, "lixiao", department=self.dept, role="staff")
        person(c, self.admin, self.security, "dang", department=self.dept, role="archivist")
        self.archivist = actor(c, "dang")
        self.n = 100

    def fresh(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"


def _grant(w: World) -> int:
    return access.create_grant(
        w.c,
        w.archivist,
        user_id=w.staff,
        record_id=w.rid,
        actions=["read_content"],
        valid_until=utcnow() + timedelta(days=1),
        reason="借阅",
    ).id


def _totp(w: World) -> Call:
    who = actor(w.c, "lixiao")
    uri = access.enroll_totp(w.c, who)
    code = pyotp.parse_uri(uri).now()
    return lambda: access.confirm_totp(w.c, who, code)


def _revoke_role(w: World) -> Call:
    uid = person(w.c, w.admin, None, w.fresh("v"), department=w.dept, role="staff")
    return lambda: access.revoke_role(w.c, w.admin, uid, "staff")


def _revoke_grant(w: World) -> Call:
    gid = _grant(w)
    return lambda: access.revoke_grant(w.c, w.archivist, gid)


def _revoke_token(w: World) -> Call:
    tid = access.create_token(w.c, CONSOLE, "hr", ["submit"])[1].id
    return lambda: access.revoke_token(w.c, CONSOLE, tid)


def _sign_out(w: World) -> Call:
    token = sign_in_token(w.c, "lixiao")
    return lambda: access.sign_out(w.c, actor(w.c, "lixiao"), token)


def _sso(w: World) -> Call:
    def call() -> None:
        with pytest.raises(DanganError):  # no state cookie: refused, and that is recorded
            access.sso_sign_in(w.c, VISITOR, OidcClient(w.c), cookie=None, code="x", state="y")

    return call


SCENARIOS: dict[str, Callable[[World], Call]] = {
    "dangan.records.services.archive_submission": lambda w: (
        lambda: records.archive_submission(w.c, submitter(sub := notice(w.folder, 7)), sub)
    ),
    "dangan.intake.services.submit": lambda w: (
        lambda: intake.submit(w.c, submitter(sub := notice(w.folder, 8)), sub)
    ),
    "dangan.records.services.browse": lambda w: lambda: records.browse(w.c, archivist()),
    "dangan.records.services.list_queue": lambda w: lambda: records.list_queue(w.c, OPERATOR),
    "dangan.records.services.get_metadata": lambda w: (
        lambda: records.get_metadata(w.c, archivist(), w.rid)
    ),
    "dangan.records.services.history": lambda w: lambda: records.history(w.c, archivist(), w.rid),
    "dangan.records.services.proof": lambda w: lambda: records.proof(w.c, archivist(), w.rid, 0),
    "dangan.records.services.download": lambda w: (
        lambda: records.download(w.c, archivist(), w.rid, "notice-1.txt")
    ),
    "dangan.records.services.edit_record": lambda w: (
        lambda: records.edit_record(
            w.c, archivist(), w.rid, {"title": "关于开展消防安全检查的通知"}, "依原件更正"
        )
    ),
    "dangan.records.services.confirm": lambda w: (
        lambda: records.confirm(w.c, archivist(), w.queued, retention="D10", org="BGS")
    ),
    "dangan.records.services.search": lambda w: lambda: records.search(w.c, archivist(), "通知"),
    "dangan.access.services.bootstrap_account": lambda w: (
        lambda: access.bootstrap_account(
            w.c, SETUP, username="auditor", display_name="审计", password=PW, role="auditor"
        )
    ),
    "dangan.access.services.create_user": lambda w: (
        lambda: access.create_user(
            w.c, w.admin, username=w.fresh("u"), display_name="新人", password=PW
        )
    ),
    "dangan.access.services.assign_role": lambda w: (
        lambda: access.assign_role(
            w.c,
            w.admin,
            person(w.c, w.admin, None, w.fresh("r"), department=w.dept, role=None),
            "staff",
        )
    ),
    "dangan.access.services.revoke_role": _revoke_role,
    "dangan.access.services.set_clearance": lambda w: (
        lambda: access.set_clearance(w.c, w.security, w.staff, "内部")
    ),
    "dangan.access.services.create_department": lambda w: (
        lambda: access.create_department(w.c, w.admin, code=w.fresh("D"), name="新部门")
    ),
    "dangan.access.services.create_grant": lambda w: lambda: _grant(w),
    "dangan.access.services.revoke_grant": _revoke_grant,
    "dangan.access.services.create_token": lambda w: (
        lambda: access.create_token(w.c, CONSOLE, "oa", ["submit"])
    ),
    "dangan.access.services.revoke_token": _revoke_token,
    "dangan.access.services.sign_in": lambda w: lambda: access.sign_in(w.c, VISITOR, "lixiao", PW),
    "dangan.access.services.start_session": lambda w: (
        lambda: access.start_session(w.c, VISITOR, w.staff)
    ),
    "dangan.access.services.sign_out": _sign_out,
    "dangan.access.services.enroll_totp": lambda w: (
        lambda: access.enroll_totp(w.c, actor(w.c, "lixiao"))
    ),
    "dangan.access.services.confirm_totp": _totp,
    "dangan.access.services.provision_sso_user": lambda w: (
        lambda: access.provision_sso_user(
            w.c, Actor.internal("system:oidc"), sub=w.fresh("sub-"), claims={"name": "单点"}
        )
    ),
    "dangan.access.services.sso_sign_in": _sso,
}
# Use cases whose success needs a party outside Dangan; here their recorded refusal is what
# is checked (the success and its event: tests/api/test_oidc.py, against a real provider).
REFUSAL_ONLY = {"dangan.access.services.sso_sign_in"}


def writing_use_cases() -> dict[str, frozenset[str]]:
    out = {}
    for name, fn in USE_CASES.items():
        info = use_case_info(fn)
        if info is not None and info.writes:
            out[name] = info.events
    return out


def test_every_writing_use_case_is_run() -> None:
    assert set(SCENARIOS) == set(writing_use_cases())


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("events")
    c = new_instance(
        base / "inst",
        f"sqlite:///{base / 'dangan.db'}",
        oidc={
            "enabled": True,
            "issuer": "http://127.0.0.1:9/none",  # never reached: the state check fails first
            "client_id": "dangan",
            "redirect_uri": "http://127.0.0.1/api/v1/auth/oidc/callback",
            "auto_provision": True,
        },
    )
    yield World(c, base / "in")
    c.close()


def _events_since(c: Container, seq: int) -> list[dict[str, Any]]:
    with c.sessions() as s:
        rows = s.scalars(select(LedgerEntry.event).where(LedgerEntry.seq >= seq))
        return [json.loads(e) for e in rows]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_writing_use_cases_record_their_events(world: World, name: str) -> None:
    call = SCENARIOS[name](world)
    with world.c.sessions() as s:
        before = world.c.ledger.size(s)
    call()
    wanted = "failure" if name in REFUSAL_ONLY else "success"
    appended = {e["type"] for e in _events_since(world.c, before) if e["outcome"] == wanted}
    assert appended & writing_use_cases()[name], f"{name} appended {appended}"
