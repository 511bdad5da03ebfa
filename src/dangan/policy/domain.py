"""The vocabulary of the access policy: roles, 三员分立, actions, 密级 levels, openness and
department trees.

Pure: no SQLAlchemy and no IO, so the rules are tested exhaustively and used alike by the
policy, by every feature's use cases and by the SQL filter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dangan.core.errors import Problem

# --- who acts ---------------------------------------------------------------------------

# Every use case is done by one of three kinds of actor: a signed-in person (or a visitor
# not yet signed in), a business system with a token, or Dangan itself (the operator's
# console on the server, recovery, rebuild).
PERSON = "person"
SYSTEM = "system"
INTERNAL = "internal"
ACTOR_KINDS = (PERSON, SYSTEM, INTERNAL)

# --- roles -------------------------------------------------------------------------------

ARCHIVIST = "archivist"
STAFF = "staff"
DEPARTMENT_HEAD = "department_head"
SYSADMIN = "sysadmin"
SECURITY_ADMIN = "security_admin"
AUDITOR = "auditor"

ROLE_NAMES: dict[str, tuple[str, str]] = {
    ARCHIVIST: ("档案员", "archivist"),
    STAFF: ("业务人员", "staff member"),
    DEPARTMENT_HEAD: ("部门负责人", "department head"),
    SYSADMIN: ("系统管理员", "system administrator"),
    SECURITY_ADMIN: ("安全保密管理员", "security administrator"),
    AUDITOR: ("安全审计员", "security auditor"),
}
ROLES = frozenset(ROLE_NAMES)
# 三员: each is a dedicated account that holds no other role at all, so an administrator
# can never reach record content through a second, business role.
SEPARATED_ROLES = frozenset({SYSADMIN, SECURITY_ADMIN, AUDITOR})
BUSINESS_ROLES = ROLES - SEPARATED_ROLES


def role_label(role: str) -> str:
    zh, en = ROLE_NAMES.get(role, (role, role))
    return f"{zh}（{en}）"


def separation_conflict(held: Iterable[str], new_role: str) -> str | None:
    """The held role that `new_role` may not be combined with, or None if it may be added."""
    others = sorted(set(held) - {new_role})
    if new_role in SEPARATED_ROLES and others:
        return others[0]
    for role in others:
        if role in SEPARATED_ROLES:
            return role
    return None


# --- actions -----------------------------------------------------------------------------

READ_METADATA = "read_metadata"
READ_CONTENT = "read_content"
DOWNLOAD = "download"
EDIT = "edit"
EXPORT = "export"
GRANT = "grant"  # hand another user a time-limited grant on this record
ARRANGE = "arrange"  # 整理: confirm a queued record's classification and number it
READ_LEDGER = "read_ledger"
MANAGE_USERS = "manage_users"  # accounts, departments and role assignments
SET_CLEARANCE = "set_clearance"
READ_REPORTS = "read_reports"
SUBMIT = "submit"

RECORD_ACTIONS = frozenset({READ_METADATA, READ_CONTENT, DOWNLOAD, EDIT, EXPORT, GRANT, ARRANGE})
SYSTEM_ACTIONS = frozenset({READ_LEDGER, MANAGE_USERS, SET_CLEARANCE, READ_REPORTS, SUBMIT})
ACTIONS = RECORD_ACTIONS | SYSTEM_ACTIONS
# What a grant may carry: never the right to grant, nor the archivist's own work.
GRANTABLE_ACTIONS = RECORD_ACTIONS - {GRANT, ARRANGE}

# --- 密级 (security classification) and clearance ----------------------------------------

# The values of DA/T 46 M38. 内部 and 非密 share a level: neither is public, neither is a
# state secret. A clearance is one of these values and covers every value at or below it.
CLASSIFICATION_LEVELS: dict[str, int] = {
    "公开": 0,
    "内部": 1,
    "非密": 1,
    "秘密": 2,
    "机密": 3,
    "绝密": 4,
}
CLASSIFICATIONS = tuple(CLASSIFICATION_LEVELS)
LOWEST_CLEARANCE = "公开"


def classification_level(value: str | None) -> int | None:
    """The level of a 密级 value, or None for an unknown one (which then denies)."""
    if value is None:
        return None
    return CLASSIFICATION_LEVELS.get(value)


def covered_classifications(clearance: str) -> frozenset[str]:
    """Every 密级 value a holder of `clearance` may see (none if the clearance is unknown)."""
    level = classification_level(clearance)
    if level is None:
        return frozenset()
    return frozenset(v for v, lv in CLASSIFICATION_LEVELS.items() if lv <= level)


# --- openness (开放/控制) -----------------------------------------------------------------

OPEN = "开放"
CONTROLLED = "控制"
OPENNESS = frozenset({OPEN, CONTROLLED})


def subtree(root: int, parents: Mapping[int, int | None]) -> frozenset[int]:
    """`root` and every department below it, given each department's parent."""
    children: dict[int, list[int]] = {}
    for dept, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(dept)
    found = {root}
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:  # a cycle in bad data must not loop forever
                found.add(child)
                todo.append(child)
    return frozenset(found)


def ancestors(dept: int, parents: Mapping[int, int | None]) -> tuple[int, ...]:
    """Parents of `dept` from the nearest up to the root."""
    chain: list[int] = []
    cur = parents.get(dept)
    while cur is not None and cur not in chain and cur != dept:
        chain.append(cur)
        cur = parents.get(cur)
    return tuple(chain)


# --- grants --------------------------------------------------------------------------


def check_grant_input(actions: Iterable[str], reason: str) -> list[Problem]:
    """Problems with the actions and reason of a new grant."""
    problems: list[Problem] = []
    acts = list(actions)
    if not acts:
        problems.append(
            Problem("actions", "required", "至少授予一项操作", "grant at least one action")
        )
    bad = sorted(set(acts) - GRANTABLE_ACTIONS)
    if bad:
        problems.append(
            Problem(
                "actions",
                "unknown_action",
                f"不能授予这些操作：{'、'.join(bad)}",
                f"these actions cannot be granted: {', '.join(bad)}",
            )
        )
    if not reason.strip():
        problems.append(
            Problem("reason", "required", "请填写授权理由", "a reason for the grant is required")
        )
    return problems


def normalise_grant_actions(actions: Iterable[str]) -> frozenset[str]:
    """Any record action implies seeing the record's description."""
    acts = frozenset(actions)
    return acts | {READ_METADATA} if acts else acts
