"""THE access policy: one pure function, `decide`, and the SQL filter inputs consistent with it.

Every check in the system asks `decide(subject, action, resource, now)` — the unit of work of
every use case asks it before acting; lists, counts and search ask `visible_filter` (turned
into SQL by `dangan.access.visibility`) so they are filtered inside the query and agree with
`decide` record for record.

Who may act at all: a person by their roles (below); a business system only to submit, and
only with a token holding the `submit` scope; Dangan itself (the operator's console on the
server, recovery, rebuild) may do everything — whoever runs it already holds the keys.

Order of the record checks, each a stable reason code shown to the user:

1. the 密级 must be known (`classification_unknown`) and within the clearance
   (`clearance_too_low`): this caps every other rule, grants included;
2. the three administrators (三员) never see records (`separation_of_duties`);
3. a role's scope or an active grant allows; anything else is `not_in_scope`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dangan.core.clock import utcnow
from dangan.policy.domain import (
    ACTIONS,
    ARCHIVIST,
    AUDITOR,
    DEPARTMENT_HEAD,
    DOWNLOAD,
    GRANT,
    GRANTABLE_ACTIONS,
    INTERNAL,
    LOWEST_CLEARANCE,
    MANAGE_USERS,
    OPEN,
    PERSON,
    READ_CONTENT,
    READ_LEDGER,
    READ_METADATA,
    READ_REPORTS,
    RECORD_ACTIONS,
    SECURITY_ADMIN,
    SEPARATED_ROLES,
    SET_CLEARANCE,
    STAFF,
    SUBMIT,
    SYSADMIN,
    SYSTEM,
    classification_level,
    covered_classifications,
)

# Which roles may do the actions that concern no single record.
SYSTEM_ACTION_ROLES: dict[str, frozenset[str]] = {
    READ_LEDGER: frozenset({AUDITOR}),
    READ_REPORTS: frozenset({AUDITOR}),
    MANAGE_USERS: frozenset({SYSADMIN}),
    SET_CLEARANCE: frozenset({SECURITY_ADMIN}),
    SUBMIT: frozenset({ARCHIVIST, DEPARTMENT_HEAD, STAFF}),
}
# Record actions by role within its scope: archivists everywhere, heads in their subtree,
# staff in their own department (plus the description of open records anywhere).
ARCHIVIST_ACTIONS = RECORD_ACTIONS
DEPARTMENT_HEAD_ACTIONS = frozenset({READ_METADATA, READ_CONTENT, DOWNLOAD, GRANT})
STAFF_OWN_ACTIONS = frozenset({READ_METADATA, READ_CONTENT, DOWNLOAD})
STAFF_OPEN_ACTIONS = frozenset({READ_METADATA})

REASONS: dict[str, tuple[str, str]] = {
    # allowed
    "role_permits": ("角色允许此操作", "your role permits this"),
    "archivist_scope": ("档案员可访问全部档案", "archivists may access every record"),
    "department_scope": (
        "本部门及下级部门的档案",
        "a record of your department or one below it",
    ),
    "own_department": ("本部门的档案", "a record of your own department"),
    "open_record": ("开放档案的目录信息", "the description of an open record"),
    "grant": ("有有效的临时授权", "you hold a valid time-limited grant"),
    "internal": ("系统自身的运维操作", "an operation of Dangan itself"),
    "token_scope": ("访问令牌有此权限范围", "the token holds the scope for this"),
    # denied
    "unknown_action": ("未知的操作", "unknown action"),
    "resource_required": ("此操作须指定档案", "this action needs a record"),
    "classification_unknown": (
        "档案密级未知，按最高密级处理，拒绝访问",
        "the record's classification is unknown, so access is refused",
    ),
    "clearance_too_low": (
        "您的涉密等级低于档案密级",
        "your clearance is below the record's classification",
    ),
    "separation_of_duties": (
        "三员分立：系统管理员、安全保密管理员、安全审计员不能访问档案",
        "separation of duties: administrators and auditors cannot access records",
    ),
    "not_in_scope": (
        "该档案不在您的访问范围内",
        "this record is outside what you may access",
    ),
    "role_not_permitted": ("您的角色不允许此操作", "your role does not permit this"),
    "scope_missing": ("访问令牌无此操作权限", "the token lacks the scope for this"),
    "systems_submit_only": (
        "业务系统只能提交归档或读取审计账本的检查点与证明，不能直接访问档案",
        "a business system may only submit, or read the ledger's checkpoints and proofs; "
        "it cannot act on records",
    ),
}
# The token scope a business system needs for each action it may do at all.
SYSTEM_SCOPES: dict[str, str] = {SUBMIT: "submit", READ_LEDGER: "read_ledger"}


@dataclass(frozen=True)
class GrantView:
    """A time-limited grant as the policy sees it (revoked grants are never loaded)."""

    record_id: str
    actions: frozenset[str]
    valid_until: datetime
    valid_from: datetime | None = None

    def active(self, now: datetime) -> bool:
        started = self.valid_from is None or self.valid_from <= now
        return started and now < self.valid_until


@dataclass(frozen=True)
class Subject:
    """Who is asking, as the policy sees it: built once per request (persons: from the
    account, see `dangan.access.subjects`; systems: from the token).

    `kind` is person, system or internal (`dangan.policy.domain.ACTOR_KINDS`). For a person,
    `department_subtree` is the own department and every one below it (a head's scope) and
    `department_ancestors` its parents up to the root; for a system, `scopes` are its token's.
    A person not yet signed in has no `user_id` and no roles.
    """

    user_id: int | None
    roles: frozenset[str]
    department_id: int | None = None
    department_subtree: frozenset[int] = frozenset()
    department_ancestors: tuple[int, ...] = ()
    clearance: str = LOWEST_CLEARANCE
    grants: tuple[GrantView, ...] = ()
    username: str = ""
    kind: str = PERSON
    scopes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RecordAccessAttrs:
    record_id: str
    classification: str | None
    openness: str | None
    owner_department_id: int | None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    zh: str
    en: str

    def __bool__(self) -> bool:
        return self.allowed


def _decision(allowed: bool, reason: str) -> Decision:
    zh, en = REASONS[reason]
    return Decision(allowed, reason, zh, en)


def decide(
    subject: Subject,
    action: str,
    resource: RecordAccessAttrs | None = None,
    now: datetime | None = None,
) -> Decision:
    """May `subject` do `action` (on `resource`, for record actions) at `now`?"""
    if action not in ACTIONS:
        return _decision(False, "unknown_action")
    if subject.kind == INTERNAL:
        return _decision(True, "internal")
    if subject.kind == SYSTEM:
        return _system_decision(subject, action)
    if action not in RECORD_ACTIONS:
        allowed = bool(subject.roles & SYSTEM_ACTION_ROLES[action])
        return _decision(allowed, "role_permits" if allowed else "role_not_permitted")
    if resource is None:
        return _decision(False, "resource_required")
    return _record_decision(subject, action, resource, now or utcnow())


def _system_decision(subject: Subject, action: str) -> Decision:
    scope = SYSTEM_SCOPES.get(action)
    if scope is None:
        return _decision(False, "systems_submit_only")
    allowed = scope in subject.scopes
    return _decision(allowed, "token_scope" if allowed else "scope_missing")


def _record_decision(
    subject: Subject, action: str, resource: RecordAccessAttrs, now: datetime
) -> Decision:
    if classification_level(resource.classification) is None:
        return _decision(False, "classification_unknown")
    if resource.classification not in covered_classifications(subject.clearance):
        return _decision(False, "clearance_too_low")
    if subject.roles & SEPARATED_ROLES:
        return _decision(False, "separation_of_duties")
    reason = _scope_reason(subject, action, resource)
    if (
        reason is None
        and action in GRANTABLE_ACTIONS
        and any(
            g.record_id == resource.record_id and action in g.actions and g.active(now)
            for g in subject.grants
        )
    ):
        reason = "grant"
    return _decision(reason is not None, reason or "not_in_scope")


def _scope_reason(subject: Subject, action: str, resource: RecordAccessAttrs) -> str | None:
    """Which role's scope covers the record for `action`, if any."""
    owner = resource.owner_department_id
    if ARCHIVIST in subject.roles and action in ARCHIVIST_ACTIONS:
        return "archivist_scope"
    if (
        DEPARTMENT_HEAD in subject.roles
        and action in DEPARTMENT_HEAD_ACTIONS
        and owner is not None
        and owner in subject.department_subtree
    ):
        return "department_scope"
    if STAFF in subject.roles:
        if action in STAFF_OWN_ACTIONS and owner is not None and owner == subject.department_id:
            return "own_department"
        if action in STAFF_OPEN_ACTIONS and resource.openness == OPEN:
            return "open_record"
    return None


@dataclass(frozen=True)
class VisibleFilter:
    """What an SQL filter needs to admit exactly the records `decide` allows for one action.

    A record is admitted when its 密级 is in `classifications` AND (`all_departments`, or
    its owner is in `department_ids`, or `open_records` and it is 开放, or its id is in
    `granted_record_ids`). Empty `classifications` admits nothing — unless `everything`,
    which admits every record (Dangan itself, whose decisions are all yes).
    """

    action: str
    classifications: frozenset[str]
    all_departments: bool = False
    department_ids: frozenset[int] = frozenset()
    open_records: bool = False
    granted_record_ids: frozenset[str] = field(default_factory=frozenset)
    everything: bool = False  # Dangan itself: no filter at all

    @property
    def nothing(self) -> bool:
        if self.everything:
            return False
        return not self.classifications or not (
            self.all_departments
            or self.department_ids
            or self.open_records
            or self.granted_record_ids
        )

    def admits(self, r: RecordAccessAttrs) -> bool:
        """The filter evaluated in Python (what the SQL clause computes)."""
        if self.everything:
            return True
        if r.classification not in self.classifications:
            return False
        return (
            self.all_departments
            or (r.owner_department_id is not None and r.owner_department_id in self.department_ids)
            or (self.open_records and r.openness == OPEN)
            or r.record_id in self.granted_record_ids
        )


def visible_filter(
    subject: Subject, now: datetime | None = None, action: str = READ_METADATA
) -> VisibleFilter:
    """The inputs of a query filter consistent with `decide(subject, action, ·, now)`."""
    if subject.kind == INTERNAL and action in RECORD_ACTIONS:
        return VisibleFilter(action=action, classifications=frozenset(), everything=True)
    if action not in RECORD_ACTIONS or subject.kind != PERSON or subject.roles & SEPARATED_ROLES:
        return VisibleFilter(action=action, classifications=frozenset())
    at = now or utcnow()
    departments: set[int] = set()
    if DEPARTMENT_HEAD in subject.roles and action in DEPARTMENT_HEAD_ACTIONS:
        departments |= subject.department_subtree
    if STAFF in subject.roles and action in STAFF_OWN_ACTIONS and subject.department_id is not None:
        departments.add(subject.department_id)
    return VisibleFilter(
        action=action,
        classifications=covered_classifications(subject.clearance),
        all_departments=ARCHIVIST in subject.roles and action in ARCHIVIST_ACTIONS,
        department_ids=frozenset(departments),
        open_records=STAFF in subject.roles and action in STAFF_OPEN_ACTIONS,
        granted_record_ids=frozenset(
            g.record_id
            for g in subject.grants
            if action in GRANTABLE_ACTIONS and action in g.actions and g.active(at)
        ),
    )
