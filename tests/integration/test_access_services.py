"""Access use cases on SQLite and PostgreSQL: 三员分立, sign-in with lockout, sessions, TOTP,
grants, the ledger trail of each, and the SQL filter agreeing with `decide`."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.access import passwords, sessions
from dangan.access import services as svc
from dangan.access.domain import aware
from dangan.access.identify import resolve_session
from dangan.access.models import AuthSession, RecordAccess, User
from dangan.access.passwords import needs_rehash
from dangan.access.subjects import load_subject, person_actor
from dangan.access.views import SignedIn
from dangan.access.visibility import record_attrs, visible_records_clause
from dangan.bootstrap import Container
from dangan.core.errors import (
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from dangan.ledger.models import LedgerEntry
from dangan.policy.decision import RecordAccessAttrs, Subject, decide
from dangan.records.models import Record
from dangan.usecase import Actor, UnitOfWork
from tests.archive_kit import new_instance
from tests.people_kit import PW, admins, department, person

T0 = datetime(2030, 6, 1, 9, 0, tzinfo=UTC)


@dataclass
class World:
    """The people of the tests, as the actors they act as (built at T0); `ids` by name."""

    c: Container
    sysadmin: Actor
    secadmin: Actor
    auditor: Actor
    archivist: Actor
    head: Actor
    staff: Actor
    other_staff: Actor
    own: int
    child: int
    other: int


def uid(who: Actor) -> int:
    assert who.user_id is not None
    return who.user_id


def sign_in(
    c: Container, username: str, password: str, code: str | None = None, **kw: Any
) -> SignedIn:
    """A visitor's sign-in (from `ip`, with `user_agent`, when given)."""
    where = Actor.visitor(kw.pop("ip", ""), kw.pop("user_agent", ""))
    return svc.sign_in(c, where, username, password, code, **kw)


def subject_at(c: Container, who: Actor, at: datetime) -> Subject:
    with c.sessions() as s:
        return load_subject(s, uid(who), at)


def events(c: Container, since: int = 0) -> list[dict[str, Any]]:
    with c.sessions() as s:
        rows = s.scalars(
            select(LedgerEntry.event).where(LedgerEntry.seq >= since).order_by(LedgerEntry.seq)
        )
        return [json.loads(r) for r in rows]


def get_user(s: Session, user_id: int) -> User:
    user = s.get(User, user_id)
    assert user is not None
    return user


def ledger_size(c: Container) -> int:
    with c.sessions() as s:
        return c.ledger.size(s)


@pytest.fixture
def world(tmp_path: Path, db_url: str) -> Iterator[World]:
    c = new_instance(tmp_path / "inst", db_url)
    admin = admins(c)
    sa, sec = admin["sysadmin"], admin["security_admin"]
    own = department(c, sa, "BGS", "办公室")
    child = department(c, sa, "BGS-MS", "秘书科", parent=own)
    other = department(c, sa, "CWC", "财务处")

    def user(name: str, dept: int, role: str) -> Actor:
        uid = person(c, sa, sec, name, department=dept, role=role, clearance="秘密")
        return person_actor(c, uid, now=T0)

    w = World(
        c=c,
        sysadmin=sa,
        secadmin=sec,
        auditor=admin["auditor"],
        archivist=user("archivist1", own, "archivist"),
        head=user("head1", own, "department_head"),
        staff=user("staff1", own, "staff"),
        other_staff=user("staff2", other, "staff"),
        own=own,
        child=child,
        other=other,
    )
    yield w
    c.close()


def add_record(c: Container, cls: str, openness: str, owner: int | None) -> str:
    rid = str(uuid.uuid4())
    with c.sessions.begin() as s:
        s.add(
            Record(
                id=rid,
                fonds_code="Z109",
                category_code="WS",
                status="archived",
                title=f"{cls}{openness}",
                source_system="test",
                source_id=rid,
                submission_digest="0" * 64,
                version=1,
                received_at=T0,
                classification_json="{}",
            )
        )
        s.flush()
        s.add(
            RecordAccess(
                record_id=rid,
                security_classification=cls,
                openness=openness,
                owner_department_id=owner,
            )
        )
    return rid


# --- 三员分立 and permissions ------------------------------------------------------------------


def test_separation_of_duties_is_refused_and_recorded(world: World) -> None:
    c = world.c
    start = ledger_size(c)
    with pytest.raises(ConflictError) as err:
        svc.assign_role(c, world.sysadmin, uid(world.sysadmin), "security_admin", now=T0)
    assert err.value.code == "separation_of_duties"
    assert "三员分立" in err.value.zh
    assert "separation of duties" in err.value.en
    with pytest.raises(ConflictError) as err:
        svc.assign_role(c, world.sysadmin, uid(world.auditor), "archivist", now=T0)
    assert err.value.code == "separation_of_duties"
    with pytest.raises(ConflictError) as err:
        svc.assign_role(c, world.sysadmin, uid(world.archivist), "auditor", now=T0)
    assert err.value.code == "separation_of_duties"

    trail = events(c, start)
    assert [(e["type"], e["outcome"], e["details"]["reason"]) for e in trail] == [
        ("access.role_assigned", "denied", "separation_of_duties")
    ] * 3
    with c.sessions() as s:
        assert load_subject(s, uid(world.auditor)).roles == {"auditor"}


def test_refused_for_permission_is_recorded_as_denied(world: World) -> None:
    c = world.c
    start = ledger_size(c)
    with pytest.raises(PermissionDeniedError) as err:
        svc.create_user(c, world.staff, username="mallory", display_name="M", password=PW, now=T0)
    assert err.value.code == "role_not_permitted"
    with pytest.raises(PermissionDeniedError):  # only 安全保密管理员
        svc.set_clearance(c, world.sysadmin, uid(world.staff), "绝密", now=T0)
    with pytest.raises(PermissionDeniedError):
        svc.assign_role(c, world.archivist, uid(world.staff), "archivist", now=T0)
    trail = events(c, start)
    assert [(e["type"], e["actor"], e["outcome"]) for e in trail] == [
        ("access.user_created", "staff1", "denied"),
        ("access.clearance_set", "sysadmin", "denied"),
        ("access.role_assigned", "archivist1", "denied"),
    ]
    with c.sessions() as s:
        assert s.scalar(select(User.id).where(User.username == "mallory")) is None
        assert get_user(s, uid(world.staff)).clearance == "秘密"


def test_bad_input_writes_nothing(world: World) -> None:
    c = world.c
    start = ledger_size(c)
    with pytest.raises(InvalidInputError) as err:
        svc.create_user(c, world.sysadmin, username="x", display_name="", password="short", now=T0)
    codes = {(p.field, p.code) for p in err.value.problems}
    assert ("username", "bad_username") in codes
    assert ("display_name", "required") in codes
    assert ("password", "password_too_short") in codes
    with pytest.raises(InvalidInputError):
        svc.create_user(c, world.sysadmin, username="staff1", display_name="d", password=PW)
    with pytest.raises(InvalidInputError):
        svc.set_clearance(c, world.secadmin, uid(world.staff), "顶级", now=T0)
    with pytest.raises(InvalidInputError):
        svc.create_department(c, world.sysadmin, code="BGS", name="重复", now=T0)
    assert ledger_size(c) == start


def test_names_that_would_display_as_something_else_are_refused(world: World) -> None:
    c = world.c
    start = ledger_size(c)
    with pytest.raises(InvalidInputError) as err:
        svc.create_user(
            c, world.sysadmin, username="zhang3", display_name="张\u202e三", password=PW, now=T0
        )
    [problem] = err.value.problems
    assert (problem.field, problem.code) == ("display_name", "invisible_character")
    assert "U+202E" in problem.zh
    assert "U+202E" in problem.en
    for code, name, field in (("KJC", "科技\u200b处", "name"), ("K\u2066J", "科技处", "code")):
        with pytest.raises(InvalidInputError) as err:
            svc.create_department(c, world.sysadmin, code=code, name=name, now=T0)
        assert [(p.field, p.code) for p in err.value.problems] == [(field, "invisible_character")]
    assert ledger_size(c) == start
    svc.create_user(
        c, world.sysadmin, username="zhang3", display_name="张三（借调）", password=PW, now=T0
    )
    svc.create_department(c, world.sysadmin, code="KJC", name="科技处（信息中心）", now=T0)


def test_admin_actions_are_on_the_ledger(world: World) -> None:
    types = [(e["type"], e["outcome"]) for e in events(world.c)]
    assert ("access.department_created", "success") in types
    assert ("access.user_created", "success") in types
    assert ("access.role_assigned", "success") in types
    assert ("access.clearance_set", "success") in types
    svc.revoke_role(world.c, world.sysadmin, uid(world.head), "department_head", now=T0)
    last = events(world.c)[-1]
    assert (last["type"], last["actor"], last["target"]) == (
        "access.role_revoked",
        "sysadmin",
        f"user:{uid(world.head)}",
    )


def test_bootstrap_account_only_once_per_role(world: World) -> None:
    with pytest.raises(ConflictError):
        svc.bootstrap_account(
            world.c,
            Actor.internal("system:setup"),
            username="sysadmin2",
            display_name="x",
            password=PW,
            role="sysadmin",
        )


# --- sign-in -----------------------------------------------------------------------------------


def test_sign_in_success_and_sign_out(world: World) -> None:
    c = world.c
    start = ledger_size(c)
    signed = sign_in(c, "staff1", PW, ip="10.0.0.1", user_agent="pytest", now=T0)
    user = signed.user
    assert user.id == uid(world.staff)
    assert len(signed.token) >= 43
    assert resolve_session(c, signed.token, "10.0.0.1", now=T0 + timedelta(minutes=1)) == user.id
    me = person_actor(c, user.id, "10.0.0.1")
    svc.sign_out(c, me, signed.token, now=T0 + timedelta(minutes=2))
    with pytest.raises(UnauthenticatedError) as err:
        resolve_session(c, signed.token, now=T0 + timedelta(minutes=3))
    assert err.value.code == "session_expired"
    trail = events(c, start)
    assert [(e["type"], e["actor"], e["outcome"]) for e in trail] == [
        ("auth.sign_in", "staff1", "success"),
        ("auth.sign_out", "staff1", "success"),
    ]
    assert trail[0]["details"] == {"ip": "10.0.0.1", "user_agent": "pytest"}


def test_the_token_is_stored_hashed(world: World) -> None:
    token = sign_in(world.c, "staff1", PW, now=T0).token
    with world.c.sessions() as s:
        stored = s.scalars(select(AuthSession.token_hash)).all()
    assert token.encode() not in [bytes(h) for h in stored]
    assert len(stored) == 1
    assert len(stored[0]) == 32


def test_lockout_after_five_failures(world: World) -> None:
    c = world.c
    start = ledger_size(c)
    for i in range(5):
        with pytest.raises(UnauthenticatedError) as err:
            sign_in(c, "staff1", "Wrong-password-1", now=T0 + timedelta(seconds=i))
        assert err.value.code == "sign_in_failed"
    # locked: the right password is refused with the same error
    with pytest.raises(UnauthenticatedError) as err:
        sign_in(c, "staff1", PW, now=T0 + timedelta(minutes=9, seconds=59))
    assert err.value.code == "sign_in_failed"
    sign_in(c, "staff1", PW, now=T0 + timedelta(minutes=10, seconds=5))
    with c.sessions() as s:
        assert get_user(s, uid(world.staff)).failed_attempts == 0

    trail = [(e["type"], e["outcome"], e["details"].get("reason")) for e in events(c, start)]
    assert trail == [
        *[("auth.sign_in", "failure", "bad_password")] * 4,
        ("auth.lockout", "success", None),
        ("auth.sign_in", "failure", "bad_password"),
        ("auth.sign_in", "failure", "locked"),
        ("auth.sign_in", "success", None),
    ]


def test_unknown_and_locked_users_look_like_a_wrong_password(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = world.c
    calls: list[str | None] = []
    real = passwords.verify_password

    def counting(stored: str | None, password: str) -> bool:
        calls.append(stored)
        return real(stored, password)

    monkeypatch.setattr(sessions, "verify_password", counting)
    with pytest.raises(UnauthenticatedError) as unknown:
        sign_in(c, "nobody", PW, now=T0)
    with pytest.raises(UnauthenticatedError) as wrong:
        sign_in(c, "staff1", "Wrong-password-1", now=T0)
    assert unknown.value.as_dict() == wrong.value.as_dict()
    assert len(calls) == 2  # one argon2 verification each, the unknown user's on a dummy
    assert calls[0] is None
    last = events(c)[-2]
    assert (last["actor"], last["outcome"], last["details"]["reason"]) == (
        "unknown:nobody",
        "failure",
        "unknown_user",
    )


def test_idle_and_absolute_expiry(world: World) -> None:
    c = world.c
    token = sign_in(c, "staff1", PW, now=T0).token
    t = T0 + timedelta(minutes=29)
    resolve_session(c, token, now=t)
    with pytest.raises(UnauthenticatedError) as err:
        resolve_session(c, token, now=t + timedelta(minutes=30))
    assert err.value.code == "session_expired"

    short = sign_in(c, "staff1", PW, now=T0, idle_timeout=timedelta(minutes=5)).token
    with pytest.raises(UnauthenticatedError) as err:
        resolve_session(c, short, now=T0 + timedelta(minutes=5))
    assert err.value.code == "session_expired"

    busy = sign_in(c, "staff1", PW, now=T0).token
    t = T0
    while t + timedelta(minutes=20) < T0 + timedelta(hours=12):
        t += timedelta(minutes=20)
        resolve_session(c, busy, now=t)
    with pytest.raises(UnauthenticatedError) as err:
        resolve_session(c, busy, now=T0 + timedelta(hours=12))
    assert err.value.code == "session_expired"
    with pytest.raises(UnauthenticatedError) as err:
        resolve_session(c, "not-a-token", now=T0)
    assert err.value.code == "session_expired"


def test_idle_clock_is_written_only_when_it_moved(world: World) -> None:
    """Most requests cost no write: the clock is touched after TOUCH_INTERVAL or a new IP."""
    c = world.c
    token = sign_in(c, "staff1", PW, ip="10.0.0.1", now=T0).token

    def seen() -> tuple[datetime, str | None]:
        with c.sessions() as s:
            row = s.execute(select(AuthSession)).scalars().all()[-1]
            return aware(row.last_seen_at), row.last_ip

    resolve_session(c, token, "10.0.0.1", now=T0 + timedelta(seconds=10))
    assert seen() == (T0, "10.0.0.1")
    resolve_session(c, token, "10.0.0.1", now=T0 + timedelta(seconds=40))
    assert seen() == (T0 + timedelta(seconds=40), "10.0.0.1")
    resolve_session(c, token, "10.0.0.2", now=T0 + timedelta(seconds=45))
    assert seen() == (T0 + timedelta(seconds=45), "10.0.0.2")


def test_disabled_users_cannot_sign_in_or_use_sessions(world: World) -> None:
    c = world.c
    token = sign_in(c, "staff1", PW, now=T0).token
    with c.sessions.begin() as s:
        get_user(s, uid(world.staff)).status = "disabled"
    with pytest.raises(UnauthenticatedError) as err:
        resolve_session(c, token, now=T0)
    assert err.value.code == "session_expired"
    with pytest.raises(UnauthenticatedError) as err:
        sign_in(c, "staff1", PW, now=T0)
    assert err.value.code == "sign_in_failed"
    assert events(c)[-1]["details"]["reason"] == "disabled"
    with pytest.raises(UnauthenticatedError) as err:  # nor act as the person any more
        person_actor(c, uid(world.staff))
    assert err.value.code == "session_expired"


def test_password_rehashed_when_parameters_change(world: World) -> None:
    c = world.c
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
    with c.sessions.begin() as s:
        get_user(s, uid(world.staff)).password_hash = weak.hash(PW)
    sign_in(c, "staff1", PW, now=T0)
    with c.sessions() as s:
        stored = get_user(s, uid(world.staff)).password_hash
    assert stored is not None
    assert not needs_rehash(stored)


def test_totp(world: World) -> None:
    c = world.c
    uri = svc.enroll_totp(c, world.staff, now=T0)
    secret = pyotp.parse_uri(uri).secret
    with c.sessions() as s:
        blob = get_user(s, uid(world.staff)).totp_secret or b""
    assert secret.encode() not in blob  # stored encrypted

    # not active until confirmed
    sign_in(c, "staff1", PW, now=T0)
    with pytest.raises(InvalidInputError):
        svc.confirm_totp(c, world.staff, "abcdef", now=T0)  # never a valid code
    svc.confirm_totp(c, world.staff, pyotp.TOTP(secret).at(T0), now=T0)

    t = T0 + timedelta(minutes=5)
    with pytest.raises(UnauthenticatedError) as err:
        sign_in(c, "staff1", PW, now=t)
    assert err.value.code == "totp_required"
    with pytest.raises(UnauthenticatedError) as err:
        sign_in(c, "staff1", PW, "12345x", now=t)
    assert err.value.code == "sign_in_failed"
    # one step late is still accepted (valid_window=1)
    late = pyotp.TOTP(secret).at(t - timedelta(seconds=30))
    sign_in(c, "staff1", PW, late, now=t)
    # but the same code is not accepted twice
    with pytest.raises(UnauthenticatedError) as err:
        sign_in(c, "staff1", PW, late, now=t)
    assert err.value.code == "sign_in_failed"
    code = pyotp.TOTP(secret).at(t + timedelta(minutes=1))
    sign_in(c, "staff1", PW, code, now=t + timedelta(minutes=1))
    reasons = [e["details"].get("reason") for e in events(c) if e["type"] == "auth.sign_in"]
    assert reasons[-5:] == ["totp_required", "bad_totp", None, "bad_totp", None]


# --- grants and the record filter ------------------------------------------------------------


def other_departments_record(world: World) -> tuple[str, RecordAccessAttrs]:
    """A controlled 内部 record of 财务处 (not the grantee's department), with its attributes."""
    rid = add_record(world.c, "内部", "控制", world.other)
    with world.c.sessions() as s:
        attrs = record_attrs(s, rid)
    assert attrs is not None
    return rid, attrs


def test_grants_refused_or_rejected(world: World) -> None:
    c = world.c
    rid, attrs = other_departments_record(world)
    staff = subject_at(c, world.staff, T0)
    assert decide(staff, "read_content", attrs, T0).reason == "not_in_scope"

    # a head may not grant on another department's record: refused and recorded
    with pytest.raises(PermissionDeniedError) as err:
        svc.create_grant(
            c,
            world.head,
            user_id=uid(world.staff),
            record_id=rid,
            actions=["read_content"],
            valid_until=T0 + timedelta(days=1),
            reason="审查",
            now=T0,
        )
    assert err.value.code == "not_in_scope"
    assert events(c)[-1]["outcome"] == "denied"

    with pytest.raises(InvalidInputError) as bad:
        svc.create_grant(
            c,
            world.archivist,
            user_id=uid(world.sysadmin),
            record_id=rid,
            actions=["edit"],
            valid_until=T0 - timedelta(days=1),
            reason="",
            now=T0,
        )
    assert {p.code for p in bad.value.problems} == {
        "not_after_start",
        "required",
        "separation_of_duties",
    }


def test_grants_open_a_record_until_they_end(world: World) -> None:
    c = world.c
    rid, attrs = other_departments_record(world)
    g = svc.create_grant(
        c,
        world.archivist,
        user_id=uid(world.staff),
        record_id=rid,
        actions=["read_content"],
        valid_until=T0 + timedelta(days=1),
        reason="审计整改需要",
        now=T0,
    )
    assert g.actions == "read_content,read_metadata"
    last = events(c)[-1]
    assert (last["type"], last["outcome"], last["target"]) == (
        "access.grant_created",
        "success",
        f"record:{rid}",
    )
    staff = subject_at(c, world.staff, T0 + timedelta(hours=1))
    assert decide(staff, "read_content", attrs, T0 + timedelta(hours=1)).reason == "grant"
    assert not decide(staff, "download", attrs, T0 + timedelta(hours=1)).allowed
    later = subject_at(c, world.staff, T0 + timedelta(days=2))
    assert not decide(later, "read_content", attrs, T0 + timedelta(days=2)).allowed

    svc.revoke_grant(c, world.archivist, g.id, now=T0 + timedelta(hours=2))
    staff = subject_at(c, world.staff, T0 + timedelta(hours=3))
    assert not decide(staff, "read_content", attrs, T0 + timedelta(hours=3)).allowed
    assert events(c)[-1]["type"] == "access.grant_revoked"


def test_authorize_records_refusals(world: World) -> None:
    """The unit of work's policy check on access's attributes: a refusal is on the ledger."""
    c = world.c
    rid = add_record(c, "机密", "控制", world.own)
    with (
        pytest.raises(PermissionDeniedError) as err,
        UnitOfWork(c, world.archivist, at=T0) as uow,
    ):
        uow.authorize(
            "read_content",
            record_attrs(uow.session, rid),
            event="access.read_content",
            target=f"record:{rid}",
        )
    assert err.value.code == "clearance_too_low"
    last = events(c)[-1]
    assert (last["type"], last["outcome"], last["target"]) == (
        "access.read_content",
        "denied",
        f"record:{rid}",
    )
    with UnitOfWork(c, world.auditor, at=T0) as uow:
        assert uow.authorize("read_ledger", event="access.read_ledger").allowed


CLASSES = ["公开", "内部", "非密", "秘密", "机密", "绝密", "未知"]
OPENNESS = ["开放", "控制"]


def record_grid(world: World) -> tuple[list[str], str]:
    """A record for every 密级 × openness × owner, one without access attributes, and a grant
    for staff1 on a controlled record of another department; returns (ids, granted id)."""
    c = world.c
    owners = [world.own, world.child, world.other, None]
    combos = list(itertools.product(CLASSES, OPENNESS, owners))
    ids = [add_record(c, cls, op, owner) for cls, op, owner in combos]
    bare = str(uuid.uuid4())
    with c.sessions.begin() as s:
        s.add(
            Record(
                id=bare,
                fonds_code="Z109",
                category_code="WS",
                status="archived",
                title="无访问属性",
                source_system="test",
                source_id=bare,
                submission_digest="0" * 64,
                version=1,
                received_at=T0,
                classification_json="{}",
            )
        )
    granted = ids[combos.index(("内部", "控制", world.other))]
    svc.create_grant(
        c,
        world.archivist,
        user_id=uid(world.staff),
        record_id=granted,
        actions=["read_content"],
        valid_until=T0 + timedelta(days=1),
        reason="协查",
        now=T0,
    )
    return ids, granted


def visible(s: Session, subject: Subject, now: datetime, action: str = "read_metadata") -> set[str]:
    clause = visible_records_clause(subject, now, action)
    query = select(Record.id).join(RecordAccess, RecordAccess.record_id == Record.id)
    return set(s.scalars(query.where(clause)))


def test_visible_records_clause_matches_decide(world: World) -> None:
    c = world.c
    ids, granted = record_grid(world)
    svc.set_clearance(c, world.secadmin, uid(world.other_staff), "公开", now=T0)

    now = T0 + timedelta(hours=1)
    users = [
        world.sysadmin,
        world.secadmin,
        world.auditor,
        world.archivist,
        world.head,
        world.staff,
        world.other_staff,
    ]
    subjects = [(u.name, subject_at(c, u, now)) for u in users]
    # Dangan itself decides yes to everything: its clause admits every record with attributes.
    subjects.append(("dangan", Actor.internal().subject))
    with c.sessions() as s:
        attrs = {rid: record_attrs(s, rid) for rid in ids}
        for name, subject in subjects:
            for action in ("read_metadata", "read_content", "edit"):
                allowed = {rid for rid, a in attrs.items() if decide(subject, action, a, now)}
                assert visible(s, subject, now, action) == allowed, (name, action)
        assert granted in visible(s, load_subject(s, uid(world.staff), now), now)
