"""Pure rules of accounts: states, lockout and session limits. The policy's vocabulary
(roles, actions, 密级, grants) is `dangan.policy.domain`.
"""

from __future__ import annotations

# --- accounts ----------------------------------------------------------------------------

STATUS_ACTIVE = "active"
STATUS_DISABLED = "disabled"
MAX_FAILED_ATTEMPTS = 5
LOCKOUT_MINUTES = 10
IDLE_MINUTES = 30
ABSOLUTE_HOURS = 12
