"""Pure rules of accounts and grants: account states, lockout and session limits, and what
a new grant must carry. The policy's own vocabulary (roles, actions, 密级) is `dangan.policy`.
"""

from __future__ import annotations

from collections.abc import Iterable

from dangan.core.errors import Problem
from dangan.policy.domain import GRANTABLE_ACTIONS, READ_METADATA

# --- accounts ----------------------------------------------------------------------------

STATUS_ACTIVE = "active"
STATUS_DISABLED = "disabled"
MAX_FAILED_ATTEMPTS = 5
LOCKOUT_MINUTES = 10
IDLE_MINUTES = 30
ABSOLUTE_HOURS = 12


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
