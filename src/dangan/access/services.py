"""Use cases of access: sign-in and sessions, accounts, roles, clearances, grants, and the
SQL filter that keeps record lists consistent with the policy.

Each administrative use case takes the acting user first, asks `policy.decide`, and writes
its ledger event in the same transaction as its change. A refusal for lack of permission
(or for 三员分立) is itself recorded, with outcome "denied", in a transaction of its own;
input that breaks a rule writes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyotp
from sqlalchemy import ColumnElement, and_, false, or_, select, true, update
from sqlalchemy.orm import Session

from dangan.access.domain import (
    ABSOLUTE_HOURS,
    IDLE_MINUTES,
    LOCKOUT_MINUTES,
    MAX_FAILED_ATTEMPTS,
    STATUS_ACTIVE,
)
from dangan.access.models import (
    AccessGrant,
    AuthSession,
    Department,
    RecordAccess,
    RoleAssignment,
    User,
)
from dangan.access.passwords import (
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
)
from dangan.arrangement.models import Fonds
from dangan.core.clock import iso, utcnow
from dangan.core.errors import (
    ConfigurationError,
    ConflictError,
    DanganError,
    InvalidInputError,
    NotFoundError,
    Problem,
)
from dangan.db.locking import for_update
from dangan.policy.decision import (
    Decision,
    GrantView,
    RecordAccessAttrs,
    Subject,
    decide,
    visible_filter,
)
from dangan.policy.domain import (
    CLASSIFICATIONS,
    GRANT,
    LOWEST_CLEARANCE,
    MANAGE_USERS,
    OPEN,
    READ_METADATA,
    ROLES,
    SEPARATED_ROLES,
    SET_CLEARANCE,
    ancestors,
    check_grant_input,
    normalise_grant_actions,
    role_label,
    separation_conflict,
    subtree,
)
from dangan.records.models import Record

if TYPE_CHECKING:
    from dangan.bootstrap import Container
from dangan.ledger.events import audit_event

IDLE_TIMEOUT = timedelta(minutes=IDLE_MINUTES)
ABSOLUTE_TIMEOUT = timedelta(hours=ABSOLUTE_HOURS)
TOUCH_INTERVAL = timedelta(seconds=30)  # how stale the idle clock may get
LOCKOUT = timedelta(minutes=LOCKOUT_MINUTES)
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{2,63}$")
_TOTP_KEY_LABEL = b"dangan/access/totp-key/v1\x00"

# --- errors --------------------------------------------------------------------------------


class AuthenticationError(DanganError):
    """Sign-in refused. One shape for every cause, so it reveals nothing about the account."""


class TotpRequired(DanganError):
    """The password was right; a one-time code is needed as well."""


class SessionExpired(DanganError):
    """The session token is unknown, revoked, or past its idle or absolute limit."""


class AccessDenied(DanganError):
    """The policy refused; `code` is the policy's reason code."""


class SeparationOfDuties(ConflictError):
    """The role would combine duties 三员分立 keeps apart."""


def _sign_in_failed() -> AuthenticationError:
    return AuthenticationError(
        code="sign_in_failed",
        zh="用户名或密码错误，或账户已被锁定或停用",
        en="wrong user name or password, or the account is locked or disabled",
    )


def _session_expired() -> SessionExpired:
    return SessionExpired(
        code="session_expired",
        zh="会话已过期或已退出，请重新登录",
        en="the session has expired or was signed out; please sign in again",
    )


def _denied(decision: Decision) -> AccessDenied:
    return AccessDenied(code=decision.reason, zh=decision.zh, en=decision.en)


# --- helpers -------------------------------------------------------------------------------


def _aware(ts: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def _open_session(  # noqa: PLR0917 - the session's fields
    s: Session,
    user_id: int,
    at: datetime,
    ip: str,
    user_agent: str,
    idle_timeout: timedelta,
    absolute_timeout: timedelta,
) -> str:
    """A new session row; returns the token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    s.add(
        AuthSession(
            token_hash=_token_hash(token),
            user_id=user_id,
            created_at=at,
            last_seen_at=at,
            idle_seconds=int(idle_timeout.total_seconds()),
            expires_at=at + absolute_timeout,
            ip=ip[:45],
            last_ip=ip[:45],
            user_agent=user_agent[:300],
        )
    )
    return token


def _log(  # noqa: PLR0917 - the ledger event's fields, in its order
    c: Container,
    s: Session,
    type_: str,
    actor: str,
    at: datetime,
    outcome: str,
    target: str | None = None,
    **details: Any,
) -> None:
    event = audit_event(type_, actor, at, outcome, target, details)
    c.ledger.append(s, event)


def _record_refusal(  # noqa: PLR0917 - as _log
    c: Container,
    type_: str,
    actor: str,
    at: datetime,
    target: str | None,
    error: DanganError,
    **details: Any,
) -> DanganError:
    """Record a refused use case in its own transaction and hand back the error to raise."""
    with c.sessions.begin() as s:
        _log(c, s, type_, actor, at, "denied", target, reason=error.code, **details)
    return error


def _actor_id(actor: User | int) -> int:
    return actor if isinstance(actor, int) else actor.id


def _acting(s: Session, actor: User | int, at: datetime) -> tuple[User, Subject]:
    user = s.get(User, _actor_id(actor))
    if user is None or user.status != STATUS_ACTIVE:
        raise _session_expired()
    return user, load_subject(s, user, at)


def _problem_error(problems: list[Problem]) -> None:
    if problems:
        raise InvalidInputError.of(problems)


# --- the subject and the SQL filter ------------------------------------------------------


def load_subject(s: Session, account: User | int, now: datetime | None = None) -> Subject:
    """The policy's view of an account: roles, department scope, clearance, active grants.

    The account is read afresh in `s`, so a User object from an earlier session (with an
    old clearance, say) cannot leak stale rights into the decision.
    """
    at = now or utcnow()
    user = s.get(User, _actor_id(account))
    if user is None:
        raise _session_expired()
    roles = frozenset(
        s.scalars(select(RoleAssignment.role).where(RoleAssignment.user_id == user.id))
    )
    parents = {
        row.id: row.parent_id for row in s.execute(select(Department.id, Department.parent_id))
    }
    grants = tuple(
        GrantView(
            record_id=g.record_id,
            actions=frozenset(a for a in g.actions.split(",") if a),
            valid_until=_aware(g.valid_until),
            valid_from=_aware(g.valid_from),
        )
        for g in s.scalars(
            select(AccessGrant).where(
                AccessGrant.user_id == user.id, AccessGrant.revoked_at.is_(None)
            )
        )
    )
    dept = user.department_id
    return Subject(
        user_id=user.id,
        roles=roles,
        department_id=dept,
        department_subtree=subtree(dept, parents) if dept is not None else frozenset(),
        department_ancestors=ancestors(dept, parents) if dept is not None else (),
        clearance=user.clearance,
        grants=tuple(g for g in grants if g.active(at)),
        username=user.username,
    )


def subject_for(c: Container, user: User | int, now: datetime | None = None) -> Subject:
    with c.sessions() as s:
        return load_subject(s, user, now)


def record_attrs(s: Session, record_id: str) -> RecordAccessAttrs | None:
    row = s.get(RecordAccess, record_id)
    if row is None:
        return None
    return RecordAccessAttrs(
        record_id=row.record_id,
        classification=row.security_classification,
        openness=row.openness,
        owner_department_id=row.owner_department_id,
    )


def visible_records_clause(
    subject: Subject, now: datetime | None = None, action: str = READ_METADATA
) -> ColumnElement[bool]:
    """WHERE clause admitting exactly the records `decide` allows for `action`.

    Use over Record joined with RecordAccess:
    ``select(Record).join(RecordAccess, RecordAccess.record_id == Record.id).where(clause)``
    (records without a RecordAccess row are therefore never visible).
    """
    f = visible_filter(subject, now, action)
    if f.nothing:
        return false()
    scope: list[ColumnElement[bool]] = []
    if f.all_departments:
        scope.append(true())
    if f.department_ids:
        scope.append(RecordAccess.owner_department_id.in_(sorted(f.department_ids)))
    if f.open_records:
        scope.append(RecordAccess.openness == OPEN)
    if f.granted_record_ids:
        scope.append(Record.id.in_(sorted(f.granted_record_ids)))
    return and_(RecordAccess.security_classification.in_(sorted(f.classifications)), or_(*scope))


def authorize(
    c: Container,
    actor: User | int,
    action: str,
    record_id: str | None = None,
    *,
    now: datetime | None = None,
) -> Decision:
    """Check `action` for a signed-in user; a refusal is recorded and raised as AccessDenied."""
    at = now or utcnow()
    with c.sessions() as s:
        user, subject = _acting(s, actor, at)
        resource = record_attrs(s, record_id) if record_id is not None else None
        decision = decide(subject, action, resource, at)
    if decision.allowed:
        return decision
    raise _record_refusal(
        c,
        f"access.{action}",
        user.username,
        at,
        record_id and f"record:{record_id}",
        _denied(decision),
    )


# --- sign-in and sessions ----------------------------------------------------------------


def sign_in(
    c: Container,
    username: str,
    password: str,
    totp_code: str | None = None,
    *,
    ip: str = "",
    user_agent: str = "",
    now: datetime | None = None,
    idle_timeout: timedelta = IDLE_TIMEOUT,
    absolute_timeout: timedelta = ABSOLUTE_TIMEOUT,
) -> tuple[str, User]:
    """Check the credentials and open a session; returns (session token, user).

    Unknown, locked, disabled and wrong-password attempts fail alike, after one argon2
    verification each, so neither the answer nor its timing tells them apart.
    """
    at = now or utcnow()
    where = {"ip": ip, "user_agent": user_agent[:300]}
    error: DanganError = _sign_in_failed()
    with c.sessions.begin() as s:
        user = s.execute(
            for_update(select(User).where(User.username == username))
        ).scalar_one_or_none()
        if user is None:
            verify_password(None, password)
            _log(
                c,
                s,
                "auth.sign_in",
                f"unknown:{username[:64]}",
                at,
                "failure",
                reason="unknown_user",
                **where,
            )
        else:
            reason = _credential_problem(c, user, password, totp_code, at)
            target = f"user:{user.id}"
            if reason is None:
                if user.password_hash and needs_rehash(user.password_hash):
                    user.password_hash = hash_password(password)
                user.failed_attempts = 0
                user.locked_until = None
                token = _open_session(
                    s, user.id, at, ip, user_agent, idle_timeout, absolute_timeout
                )
                _log(c, s, "auth.sign_in", user.username, at, "success", target, **where)
                return token, user
            if reason in ("bad_password", "bad_totp"):
                user.failed_attempts += 1
                if user.failed_attempts >= MAX_FAILED_ATTEMPTS:
                    user.failed_attempts = 0
                    user.locked_until = at + LOCKOUT
                    _log(
                        c,
                        s,
                        "auth.lockout",
                        user.username,
                        at,
                        "success",
                        target,
                        until=iso(at + LOCKOUT),
                        **where,
                    )
            _log(c, s, "auth.sign_in", user.username, at, "failure", target, reason=reason, **where)
            if reason == "totp_required":
                error = TotpRequired(
                    code="totp_required",
                    zh="请输入动态验证码",
                    en="enter the one-time code from your authenticator",
                )
    raise error


def _credential_problem(
    c: Container, user: User, password: str, totp_code: str | None, at: datetime
) -> str | None:
    password_ok = verify_password(user.password_hash, password)  # always: equal timing
    if user.status != STATUS_ACTIVE:
        return "disabled"
    if user.locked_until is not None and _aware(user.locked_until) > at:
        return "locked"
    if not password_ok:
        return "bad_password"
    if user.totp_enabled:
        if not totp_code:
            return "totp_required"
        step = _totp_step(_totp_secret(c, user), totp_code, at)
        if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
            return "bad_totp"
        user.totp_last_step = step
    return None


def start_session(
    c: Container,
    user_id: int,
    *,
    ip: str = "",
    user_agent: str = "",
    method: str = "oidc",
    now: datetime | None = None,
    idle_timeout: timedelta = IDLE_TIMEOUT,
    absolute_timeout: timedelta = ABSOLUTE_TIMEOUT,
) -> tuple[str, User]:
    """Open a session for a user someone else authenticated (an OIDC provider); logs
    `auth.sign_in` with details.method like a password sign-in. Disabled accounts fail."""
    at = now or utcnow()
    where = {"ip": ip, "user_agent": user_agent[:300], "method": method}
    with c.sessions.begin() as s:
        user = s.execute(for_update(select(User).where(User.id == user_id))).scalar_one_or_none()
        if user is not None and user.status == STATUS_ACTIVE:
            token = _open_session(s, user.id, at, ip, user_agent, idle_timeout, absolute_timeout)
            _log(c, s, "auth.sign_in", user.username, at, "success", f"user:{user.id}", **where)
            return token, user
        name = user.username if user else f"user:{user_id}"
        _log(
            c, s, "auth.sign_in", name, at, "failure", f"user:{user_id}", reason="disabled", **where
        )
    raise _sign_in_failed()


def resolve_session(c: Container, token: str, ip: str = "", *, now: datetime | None = None) -> User:
    """The user of a live session, whose idle clock restarts; else `session_expired`.

    Read without a write lock; the idle clock is only written when it moved by more than
    `TOUCH_INTERVAL` (or the address changed), so most requests cost no write transaction.
    """
    at = now or utcnow()
    with c.sessions() as s:
        row = s.execute(
            select(AuthSession).where(AuthSession.token_hash == _token_hash(token))
        ).scalar_one_or_none()
        if (
            row is None
            or row.revoked_at is not None
            or at >= _aware(row.expires_at)
            or at - _aware(row.last_seen_at) >= timedelta(seconds=row.idle_seconds)
        ):
            raise _session_expired()
        user = s.get(User, row.user_id)
        if user is None or user.status != STATUS_ACTIVE:
            raise _session_expired()
        stale = at - _aware(row.last_seen_at) >= TOUCH_INTERVAL or row.last_ip != ip[:45]
        session_id = row.id
    if stale:
        with c.sessions.begin() as s:
            s.execute(
                update(AuthSession)
                .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
                .values(last_seen_at=at, last_ip=ip[:45])
            )
    return user


def sign_out(
    c: Container, token: str, *, ip: str = "", user_agent: str = "", now: datetime | None = None
) -> None:
    """End the session (idempotent: an unknown or ended session is left as it is)."""
    at = now or utcnow()
    with c.sessions.begin() as s:
        row = s.execute(
            select(AuthSession).where(AuthSession.token_hash == _token_hash(token))
        ).scalar_one_or_none()
        if row is None or row.revoked_at is not None:
            return
        row.revoked_at = at
        user = s.get(User, row.user_id)
        name = user.username if user else f"user:{row.user_id}"
        _log(
            c,
            s,
            "auth.sign_out",
            name,
            at,
            "success",
            f"user:{row.user_id}",
            ip=ip,
            user_agent=user_agent[:300],
        )


# --- TOTP ----------------------------------------------------------------------------------


def _totp_key(c: Container) -> bytes:
    # Derived from the master data key, which lives in the key directory, never in the DB.
    master = getattr(c.suite, "master_key", None)
    size = getattr(c.suite, "data_key_size", None)
    if not callable(master) or not isinstance(size, int):
        raise ConfigurationError(
            code="no_master_key",
            zh="加密套件没有主密钥，无法保护动态口令密钥",
            en="the crypto suite has no master key to protect TOTP secrets with",
        )
    key: bytes = c.suite.hash(_TOTP_KEY_LABEL + bytes(master()))
    return key[:size]


def _totp_secret(c: Container, user: User) -> str:
    if user.totp_secret is None:
        return ""
    plain = c.suite.decrypt(_totp_key(c), bytes(user.totp_secret), f"totp:{user.id}".encode())
    return plain.decode("ascii")


def _totp_step(secret: str, code: str, at: datetime) -> int | None:
    """The time step `code` belongs to, within one step either side, or None."""
    given = code.strip()
    # compare_digest refuses non-ASCII str; a code is digits only, so anything else is wrong.
    if not secret or not given.isascii() or not given.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    base = int(totp.timecode(at))
    for step in (base - 1, base, base + 1):
        if hmac.compare_digest(str(totp.generate_otp(step)).encode(), given.encode()):
            return step
    return None


def enroll_totp(c: Container, actor: User | int, *, now: datetime | None = None) -> str:
    """Start TOTP enrolment for oneself; returns the otpauth:// URI (shown as a QR code).

    The secret is kept encrypted and only takes effect after `confirm_totp`.
    """
    at = now or utcnow()
    secret = pyotp.random_base32()
    with c.sessions.begin() as s:
        user, _ = _acting(s, actor, at)
        user.totp_secret = c.suite.encrypt(
            _totp_key(c), secret.encode("ascii"), f"totp:{user.id}".encode()
        )
        user.totp_enabled = False
        user.totp_last_step = None
        _log(c, s, "auth.totp_enrolment_started", user.username, at, "success", f"user:{user.id}")
        uri: str = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="Dangan")
        return uri


def confirm_totp(
    c: Container, actor: User | int, code: str, *, now: datetime | None = None
) -> None:
    """Switch TOTP on once the user shows a valid code from the enrolled secret."""
    at = now or utcnow()
    with c.sessions.begin() as s:
        user, _ = _acting(s, actor, at)
        step = _totp_step(_totp_secret(c, user), code, at)
        if step is None:
            raise InvalidInputError.of(
                [Problem("code", "bad_totp", "动态验证码不正确", "the one-time code is wrong")]
            )
        user.totp_enabled = True
        user.totp_last_step = step
        _log(c, s, "auth.totp_enabled", user.username, at, "success", f"user:{user.id}")


# --- accounts and departments --------------------------------------------------------------


def bootstrap_account(
    c: Container,
    *,
    username: str,
    display_name: str,
    password: str,
    role: str,
    now: datetime | None = None,
) -> User:
    """Create one of the three administrators at set-up, while nobody holds that role yet."""
    at = now or utcnow()
    if role not in SEPARATED_ROLES:
        raise InvalidInputError.of(
            [
                Problem(
                    "role",
                    "not_an_admin_role",
                    "只能初始化三员账户",
                    "only the three administrator roles are set up this way",
                )
            ]
        )
    with c.sessions.begin() as s:
        if s.scalar(select(RoleAssignment.user_id).where(RoleAssignment.role == role)):
            raise ConflictError(
                code="role_already_held",
                zh=f"已有账户担任{role_label(role)}",
                en=f"an account already holds the role {role}",
            )
        user = _new_user(
            s,
            username=username,
            display_name=display_name,
            password=password,
            department_id=None,
            oidc_subject=None,
            at=at,
        )
        s.add(RoleAssignment(user_id=user.id, role=role, assigned_by=None, assigned_at=at))
        _log(
            c,
            s,
            "access.user_created",
            "system:setup",
            at,
            "success",
            f"user:{user.id}",
            username=username,
            role=role,
        )
        return user


def _new_user(
    s: Session,
    *,
    username: str,
    display_name: str,
    password: str | None,
    department_id: int | None,
    oidc_subject: str | None,
    at: datetime,
) -> User:
    problems: list[Problem] = []
    if not USERNAME.match(username):
        problems.append(
            Problem(
                "username",
                "bad_username",
                "用户名为 3 至 64 个字母、数字或 . _ @ -，以字母或数字开头",
                "a user name is 3-64 letters, digits or . _ @ -, starting with a letter or digit",
            )
        )
    elif s.scalar(select(User.id).where(User.username == username)) is not None:
        problems.append(
            Problem("username", "duplicate", "用户名已被使用", "the user name is taken")
        )
    if not display_name.strip() or len(display_name) > 100:
        problems.append(
            Problem(
                "display_name",
                "required",
                "请填写姓名（不超过 100 字）",
                "a display name (at most 100 characters) is required",
            )
        )
    if password is None:
        if oidc_subject is None:
            problems.append(Problem("password", "required", "请设置密码", "a password is required"))
    else:
        problems.extend(password_problems(password, username))
    if department_id is not None and s.get(Department, department_id) is None:
        problems.append(Problem("department_id", "not_found", "部门不存在", "no such department"))
    _problem_error(problems)
    user = User(
        username=username,
        display_name=display_name.strip(),
        department_id=department_id,
        password_hash=hash_password(password) if password is not None else None,
        clearance=LOWEST_CLEARANCE,
        status=STATUS_ACTIVE,
        failed_attempts=0,
        totp_enabled=False,
        oidc_subject=oidc_subject,
        created_at=at,
    )
    s.add(user)
    s.flush()
    return user


def create_user(
    c: Container,
    actor: User | int,
    *,
    username: str,
    display_name: str,
    password: str | None,
    department_id: int | None = None,
    oidc_subject: str | None = None,
    now: datetime | None = None,
) -> User:
    """A new account with the lowest clearance and no roles (sysadmin)."""
    at = now or utcnow()
    with c.sessions.begin() as s:
        acting, subject = _acting(s, actor, at)
        decision = decide(subject, MANAGE_USERS, None, at)
        if decision.allowed:
            user = _new_user(
                s,
                username=username,
                display_name=display_name,
                password=password,
                department_id=department_id,
                oidc_subject=oidc_subject,
                at=at,
            )
            _log(
                c,
                s,
                "access.user_created",
                acting.username,
                at,
                "success",
                f"user:{user.id}",
                username=username,
                department_id=department_id,
            )
            return user
    raise _record_refusal(
        c, "access.user_created", acting.username, at, None, _denied(decision), username=username
    )


def create_department(
    c: Container,
    actor: User | int,
    *,
    code: str,
    name: str,
    fonds_code: str | None = None,
    parent_id: int | None = None,
    now: datetime | None = None,
) -> Department:
    """A department of the agency holding `fonds_code` (default: the instance's) (sysadmin)."""
    at = now or utcnow()
    fonds = fonds_code or c.settings.default_fonds
    with c.sessions.begin() as s:
        acting, subject = _acting(s, actor, at)
        decision = decide(subject, MANAGE_USERS, None, at)
        if decision.allowed:
            problems: list[Problem] = []
            if not code.strip() or len(code) > 20:
                problems.append(
                    Problem(
                        "code",
                        "required",
                        "部门代码为 1 至 20 个字符",
                        "a department code is 1-20 characters",
                    )
                )
            if not name.strip() or len(name) > 100:
                problems.append(
                    Problem(
                        "name",
                        "required",
                        "部门名称为 1 至 100 个字符",
                        "a department name is 1-100 characters",
                    )
                )
            if s.get(Fonds, fonds) is None:
                problems.append(
                    Problem("fonds_code", "not_found", f"全宗 {fonds} 不存在", f"no fonds {fonds}")
                )
            elif (
                s.scalar(
                    select(Department.id).where(
                        Department.fonds_code == fonds, Department.code == code
                    )
                )
                is not None
            ):
                problems.append(
                    Problem(
                        "code",
                        "duplicate",
                        "该全宗下部门代码已存在",
                        "the department code is taken in this fonds",
                    )
                )
            if parent_id is not None:
                parent = s.get(Department, parent_id)
                if parent is None or parent.fonds_code != fonds:
                    problems.append(
                        Problem(
                            "parent_id",
                            "not_found",
                            "上级部门不存在或不属于同一全宗",
                            "no such parent department in this fonds",
                        )
                    )
            _problem_error(problems)
            dept = Department(
                code=code.strip(), name=name.strip(), fonds_code=fonds, parent_id=parent_id
            )
            s.add(dept)
            s.flush()
            _log(
                c,
                s,
                "access.department_created",
                acting.username,
                at,
                "success",
                f"department:{dept.id}",
                code=dept.code,
                name=dept.name,
                fonds=fonds,
                parent_id=parent_id,
            )
            return dept
    raise _record_refusal(
        c, "access.department_created", acting.username, at, None, _denied(decision), code=code
    )


def _target_user(s: Session, user_id: int) -> User:
    user = s.get(User, user_id)
    if user is None:
        raise NotFoundError(code="user_not_found", zh="用户不存在", en="no such user")
    return user


def assign_role(
    c: Container, actor: User | int, user_id: int, role: str, *, now: datetime | None = None
) -> None:
    """Give `user_id` a role (sysadmin). 三员 roles are never combined with any other."""
    at = now or utcnow()
    target = f"user:{user_id}"
    with c.sessions.begin() as s:
        acting, subject = _acting(s, actor, at)
        decision = decide(subject, MANAGE_USERS, None, at)
        refusal: DanganError = _denied(decision)
        if decision.allowed:
            if role not in ROLES:
                raise InvalidInputError.of(
                    [Problem("role", "unknown_role", f"未知角色 {role}", f"unknown role {role}")]
                )
            user = _target_user(s, user_id)
            held = set(
                s.scalars(select(RoleAssignment.role).where(RoleAssignment.user_id == user.id))
            )
            if role in held:
                return
            clash = separation_conflict(held, role)
            if clash is None:
                s.add(
                    RoleAssignment(
                        user_id=user.id, role=role, assigned_by=acting.id, assigned_at=at
                    )
                )
                _log(
                    c, s, "access.role_assigned", acting.username, at, "success", target, role=role
                )
                return
            refusal = SeparationOfDuties(
                code="separation_of_duties",
                zh=f"三员分立：{role_label(role)}不能与{role_label(clash)}由同一账户担任",
                en=f"separation of duties: one account cannot hold both {role} and {clash}",
            )
    raise _record_refusal(
        c, "access.role_assigned", acting.username, at, target, refusal, role=role
    )


def revoke_role(
    c: Container, actor: User | int, user_id: int, role: str, *, now: datetime | None = None
) -> None:
    at = now or utcnow()
    target = f"user:{user_id}"
    with c.sessions.begin() as s:
        acting, subject = _acting(s, actor, at)
        decision = decide(subject, MANAGE_USERS, None, at)
        if decision.allowed:
            row = s.get(RoleAssignment, (user_id, role))
            if row is None:
                raise NotFoundError(
                    code="role_not_held",
                    zh="该用户没有此角色",
                    en="the user does not hold this role",
                )
            s.delete(row)
            _log(c, s, "access.role_revoked", acting.username, at, "success", target, role=role)
            return
    raise _record_refusal(
        c, "access.role_revoked", acting.username, at, target, _denied(decision), role=role
    )


def set_clearance(
    c: Container,
    actor: User | int,
    user_id: int,
    clearance: str,
    *,
    now: datetime | None = None,
) -> None:
    """Set the 密级 a user may see (security administrator only)."""
    at = now or utcnow()
    target = f"user:{user_id}"
    with c.sessions.begin() as s:
        acting, subject = _acting(s, actor, at)
        decision = decide(subject, SET_CLEARANCE, None, at)
        if decision.allowed:
            if clearance not in CLASSIFICATIONS:
                raise InvalidInputError.of(
                    [
                        Problem(
                            "clearance",
                            "unknown_classification",
                            f"涉密等级须为：{'、'.join(CLASSIFICATIONS)}",
                            f"the clearance must be one of: {', '.join(CLASSIFICATIONS)}",
                        )
                    ]
                )
            user = _target_user(s, user_id)
            before = user.clearance
            user.clearance = clearance
            _log(
                c,
                s,
                "access.clearance_set",
                acting.username,
                at,
                "success",
                target,
                before=before,
                after=clearance,
            )
            return
    raise _record_refusal(
        c,
        "access.clearance_set",
        acting.username,
        at,
        target,
        _denied(decision),
        clearance=clearance,
    )


# --- grants --------------------------------------------------------------------------------


def create_grant(
    c: Container,
    actor: User | int,
    *,
    user_id: int,
    record_id: str,
    actions: Iterable[str],
    valid_until: datetime,
    reason: str,
    valid_from: datetime | None = None,
    now: datetime | None = None,
) -> AccessGrant:
    """Time-limited access to one record (archivist, or head of the owning department).

    The grant never lifts the grantee's clearance: the policy still checks it.
    """
    at = now or utcnow()
    acts = list(actions)
    start = valid_from or at
    target = f"record:{record_id}"
    with c.sessions.begin() as s:
        acting, subject = _acting(s, actor, at)
        attrs = record_attrs(s, record_id)
        if attrs is None:
            raise NotFoundError(code="record_not_found", zh="档案不存在", en="no such record")
        decision = decide(subject, GRANT, attrs, at)
        if decision.allowed:
            problems = check_grant_input(acts, reason)
            if _aware(valid_until) <= max(_aware(start), at):
                problems.append(
                    Problem(
                        "valid_until",
                        "not_after_start",
                        "截止时间须晚于开始时间和当前时间",
                        "the end must be after the start and after now",
                    )
                )
            grantee = s.get(User, user_id)
            if grantee is None or grantee.status != STATUS_ACTIVE:
                problems.append(
                    Problem(
                        "user_id",
                        "not_found",
                        "被授权用户不存在或已停用",
                        "the grantee does not exist or is disabled",
                    )
                )
            elif (
                set(s.scalars(select(RoleAssignment.role).where(RoleAssignment.user_id == user_id)))
                & SEPARATED_ROLES
            ):
                problems.append(
                    Problem(
                        "user_id",
                        "separation_of_duties",
                        "三员账户不能被授权访问档案",
                        "administrator and auditor accounts get no record access",
                    )
                )
            _problem_error(problems)
            grant = AccessGrant(
                user_id=user_id,
                record_id=record_id,
                actions=",".join(sorted(normalise_grant_actions(acts))),
                valid_from=_aware(start),
                valid_until=_aware(valid_until),
                granted_by=acting.id,
                reason=reason.strip()[:500],
                created_at=at,
            )
            s.add(grant)
            s.flush()
            _log(
                c,
                s,
                "access.grant_created",
                acting.username,
                at,
                "success",
                target,
                grant_id=grant.id,
                user_id=user_id,
                actions=grant.actions,
                valid_from=iso(grant.valid_from),
                valid_until=iso(grant.valid_until),
                reason=grant.reason,
            )
            return grant
    raise _record_refusal(
        c, "access.grant_created", acting.username, at, target, _denied(decision), user_id=user_id
    )


def revoke_grant(
    c: Container, actor: User | int, grant_id: int, *, now: datetime | None = None
) -> None:
    """End a grant early (whoever could have granted it on that record)."""
    at = now or utcnow()
    with c.sessions.begin() as s:
        acting, subject = _acting(s, actor, at)
        grant = s.get(AccessGrant, grant_id)
        if grant is None:
            raise NotFoundError(code="grant_not_found", zh="授权不存在", en="no such grant")
        target = f"record:{grant.record_id}"
        decision = decide(subject, GRANT, record_attrs(s, grant.record_id), at)
        if decision.allowed:
            if grant.revoked_at is None:
                grant.revoked_at = at
                grant.revoked_by = acting.id
                _log(
                    c,
                    s,
                    "access.grant_revoked",
                    acting.username,
                    at,
                    "success",
                    target,
                    grant_id=grant.id,
                    user_id=grant.user_id,
                )
            return
    raise _record_refusal(
        c, "access.grant_revoked", acting.username, at, target, _denied(decision), grant_id=grant_id
    )
