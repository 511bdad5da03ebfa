"""THE access policy, exhaustively: every role × 密级 × department relation × openness ×
action, against a small table written here independently of the policy's own tables."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from dangan.policy.decision import (
    REASONS,
    GrantView,
    RecordAccessAttrs,
    Subject,
    decide,
    visible_filter,
)

NOW = datetime(2030, 6, 1, 9, 0, tzinfo=UTC)
OWN, CHILD, OTHER = 10, 11, 20
ROLES = ["archivist", "staff", "department_head", "sysadmin", "security_admin", "auditor"]
CLASSES = ["公开", "内部", "非密", "秘密", "机密", "绝密", "未知"]
RELATIONS = {"own": OWN, "child": CHILD, "other": OTHER, "none": None}
OPENNESS = ["开放", "控制"]
RECORD = ["read_metadata", "read_content", "download", "edit", "export", "grant", "arrange"]
SYSTEM = ["read_ledger", "manage_users", "set_clearance", "read_reports", "submit"]
ACTIONS = RECORD + SYSTEM

# --- the independent expectation ---------------------------------------------------------

CLEARANCE_LEVEL = 2  # the subjects below hold 秘密
LEVEL = {"公开": 0, "内部": 1, "非密": 1, "秘密": 2, "机密": 3, "绝密": 4}
ADMINS = {"sysadmin", "security_admin", "auditor"}
SYSTEM_ROLES = {
    "read_ledger": {"auditor"},
    "read_reports": {"auditor"},
    "manage_users": {"sysadmin"},
    "set_clearance": {"security_admin"},
    "submit": {"archivist", "staff", "department_head"},
}
# (role, relation) -> (actions allowed, reason)
SCOPE = {
    ("archivist", "own"): (set(RECORD), "archivist_scope"),
    ("archivist", "child"): (set(RECORD), "archivist_scope"),
    ("archivist", "other"): (set(RECORD), "archivist_scope"),
    ("archivist", "none"): (set(RECORD), "archivist_scope"),
    ("department_head", "own"): (
        {"read_metadata", "read_content", "download", "grant"},
        "department_scope",
    ),
    ("department_head", "child"): (
        {"read_metadata", "read_content", "download", "grant"},
        "department_scope",
    ),
    ("staff", "own"): ({"read_metadata", "read_content", "download"}, "own_department"),
}


def expected(role: str, cls: str, relation: str, openness: str, action: str) -> tuple[bool, str]:
    if action in SYSTEM_ROLES:
        ok = role in SYSTEM_ROLES[action]
        return ok, "role_permits" if ok else "role_not_permitted"
    if cls not in LEVEL:
        return False, "classification_unknown"
    if LEVEL[cls] > CLEARANCE_LEVEL:
        return False, "clearance_too_low"
    if role in ADMINS:
        return False, "separation_of_duties"
    allowed, reason = SCOPE.get((role, relation), (set(), ""))
    if action in allowed:
        return True, reason
    if role == "staff" and openness == "开放" and action == "read_metadata":
        return True, "open_record"
    return False, "not_in_scope"


def subject(*roles: str, clearance: str = "秘密", grants: tuple[GrantView, ...] = ()) -> Subject:
    return Subject(
        user_id=1,
        roles=frozenset(roles),
        department_id=OWN,
        department_subtree=frozenset({OWN, CHILD}),
        clearance=clearance,
        grants=grants,
    )


def record(cls: str, relation: str, openness: str, rid: str = "r1") -> RecordAccessAttrs:
    return RecordAccessAttrs(rid, cls, openness, RELATIONS[relation])


CASES = list(itertools.product(ROLES, CLASSES, RELATIONS, OPENNESS, ACTIONS))


@pytest.mark.parametrize(("role", "cls", "relation", "openness", "action"), CASES)
def test_every_role_classification_relation_action(
    role: str, cls: str, relation: str, openness: str, action: str
) -> None:
    resource = record(cls, relation, openness) if action in RECORD else None
    d = decide(subject(role), action, resource, NOW)
    assert (d.allowed, d.reason) == expected(role, cls, relation, openness, action)
    assert d.zh
    assert d.en


def test_the_table_covers_every_case() -> None:
    assert len(CASES) == 6 * 7 * 4 * 2 * 12


def test_reason_codes_are_stable_and_bilingual() -> None:
    assert set(REASONS) == {
        "role_permits",
        "archivist_scope",
        "department_scope",
        "own_department",
        "open_record",
        "grant",
        "unknown_action",
        "resource_required",
        "classification_unknown",
        "clearance_too_low",
        "separation_of_duties",
        "not_in_scope",
        "role_not_permitted",
        "internal",
        "token_scope",
        "scope_missing",
        "systems_submit_only",
    }
    for zh, en in REASONS.values():
        assert zh
        assert en


def test_unknown_action_and_missing_record_deny() -> None:
    assert decide(subject("archivist"), "delete_everything", None, NOW).reason == "unknown_action"
    assert decide(subject("archivist"), "read_content", None, NOW).reason == "resource_required"


def test_no_roles_sees_nothing() -> None:
    d = decide(subject(), "read_metadata", record("公开", "own", "开放"), NOW)
    assert (d.allowed, d.reason) == (False, "not_in_scope")


def test_roles_combine() -> None:
    s = subject("staff", "department_head")
    assert decide(s, "read_content", record("内部", "child", "控制"), NOW).allowed
    assert not decide(s, "edit", record("内部", "own", "控制"), NOW).allowed


@pytest.mark.parametrize("clearance", ["公开", "内部", "非密", "秘密", "机密", "绝密"])
def test_clearance_caps_even_archivists(clearance: str) -> None:
    s = subject("archivist", clearance=clearance)
    for cls, level in LEVEL.items():
        d = decide(s, "read_metadata", record(cls, "own", "开放"), NOW)
        assert d.allowed == (level <= LEVEL[clearance])
        if not d.allowed:
            assert d.reason == "clearance_too_low"


def test_unknown_clearance_sees_nothing() -> None:
    d = decide(subject("archivist", clearance="??"), "read_metadata", record("公开", "own", "开放"))
    assert (d.allowed, d.reason) == (False, "clearance_too_low")


# --- grants --------------------------------------------------------------------------------


def grant(
    actions: set[str], until: timedelta = timedelta(days=1), start: timedelta | None = None
) -> GrantView:
    return GrantView(
        "r1",
        frozenset(actions),
        NOW + until,
        NOW + start if start is not None else None,
    )


def test_an_active_grant_allows_its_actions_only() -> None:
    s = subject("staff", grants=(grant({"read_metadata", "read_content"}),))
    other = record("内部", "other", "控制")
    assert decide(s, "read_content", other, NOW).reason == "grant"
    assert decide(s, "download", other, NOW).reason == "not_in_scope"
    # for another record the grant does not count
    assert not decide(s, "read_content", record("内部", "other", "控制", rid="r2"), NOW).allowed


def test_grant_outside_its_window_does_not_count() -> None:
    expired = subject("staff", grants=(grant({"read_content"}, until=-timedelta(seconds=1)),))
    future = subject("staff", grants=(grant({"read_content"}, start=timedelta(hours=1)),))
    ends_now = subject("staff", grants=(grant({"read_content"}, until=timedelta(0)),))
    other = record("内部", "other", "控制")
    for s in (expired, future, ends_now):
        assert decide(s, "read_content", other, NOW).reason == "not_in_scope"


def test_grant_is_capped_by_clearance() -> None:
    s = subject("staff", clearance="内部", grants=(grant({"read_content"}),))
    assert decide(s, "read_content", record("秘密", "other", "控制"), NOW).reason == (
        "clearance_too_low"
    )


def test_grant_never_reaches_an_administrator() -> None:
    s = subject("sysadmin", grants=(grant({"read_content"}),))
    assert decide(s, "read_content", record("公开", "other", "开放"), NOW).reason == (
        "separation_of_duties"
    )


# --- the filter agrees with decide -----------------------------------------------------------

POPULATION = [
    RecordAccessAttrs(f"r{i}", cls, op, RELATIONS[rel])
    for i, (cls, rel, op) in enumerate(itertools.product(CLASSES, RELATIONS, OPENNESS))
]
SYSTEM_SUBJECT = Subject(
    user_id=None, roles=frozenset(), username="oa", kind="system", scopes=frozenset({"submit"})
)
INTERNAL_SUBJECT = Subject(user_id=None, roles=frozenset(), username="cli", kind="internal")
SUBJECTS = [subject(r) for r in ROLES] + [
    SYSTEM_SUBJECT,
    INTERNAL_SUBJECT,
    subject("staff", "department_head"),
    subject("staff", clearance="公开"),
    subject(),
    subject("staff", grants=(GrantView("r3", frozenset({"read_metadata"}), NOW + timedelta(1)),)),
    subject("staff", grants=(GrantView("r5", frozenset({"read_content"}), NOW - timedelta(1)),)),
]


@pytest.mark.parametrize("action", RECORD)
@pytest.mark.parametrize("s", SUBJECTS)
def test_visible_filter_admits_what_decide_allows(s: Subject, action: str) -> None:
    f = visible_filter(s, NOW, action)
    allowed = {r.record_id for r in POPULATION if decide(s, action, r, NOW).allowed}
    assert {r.record_id for r in POPULATION if f.admits(r)} == allowed
    assert f.nothing == (not allowed)


def test_visible_filter_of_a_system_action_admits_nothing() -> None:
    assert visible_filter(subject("auditor"), NOW, "read_ledger").nothing


# --- who may arrange (整理), and actors that are not people ---------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_only_archivists_confirm_a_queued_record(role: str) -> None:
    """Confirming classification and numbering (`arrange`) is the archivist's work alone."""
    d = decide(subject(role), "arrange", record("内部", "own", "控制"), NOW)
    assert d.allowed == (role == "archivist")


def test_arranging_cannot_be_granted() -> None:
    s = subject("staff", grants=(grant({"arrange"}),))
    assert not decide(s, "arrange", record("内部", "own", "控制"), NOW).allowed


@pytest.mark.parametrize("action", ACTIONS)
def test_a_system_may_only_submit_and_only_with_the_scope(action: str) -> None:
    resource = record("公开", "own", "开放") if action in RECORD else None
    d = decide(SYSTEM_SUBJECT, action, resource, NOW)
    assert d.allowed == (action == "submit")
    no_scope = Subject(user_id=None, roles=frozenset(), kind="system", scopes=frozenset())
    assert not decide(no_scope, action, resource, NOW).allowed


@pytest.mark.parametrize("action", ACTIONS)
def test_dangan_itself_may_do_everything(action: str) -> None:
    resource = record("未知", "none", "控制") if action in RECORD else None
    d = decide(INTERNAL_SUBJECT, action, resource, NOW)
    assert (d.allowed, d.reason) == (True, "internal")
