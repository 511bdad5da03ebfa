"""The use cases of access, in one list: sign-in and sessions, TOTP, accounts and roles,
clearances, departments, grants, single sign-on and business systems' tokens.

Each takes `(deps: AccessDeps, actor: Actor, …)` and is written in its topic module beside
this one; how an actor is established (sessions, tokens) is `identify`, the policy's view of
people and records `subjects` and `visibility`.
"""

from dangan.access.accounts import (
    assign_role,
    bootstrap_account,
    create_user,
    list_users,
    my_account,
    revoke_role,
    set_clearance,
)
from dangan.access.departments import create_department
from dangan.access.grants import create_grant, revoke_grant
from dangan.access.sessions import sign_in, sign_out, start_session
from dangan.access.sso import provision_sso_user, sso_sign_in
from dangan.access.tokens import create_token, list_tokens, revoke_token
from dangan.access.totp import confirm_totp, enroll_totp

__all__ = [
    "assign_role",
    "bootstrap_account",
    "confirm_totp",
    "create_department",
    "create_grant",
    "create_token",
    "create_user",
    "enroll_totp",
    "list_tokens",
    "list_users",
    "my_account",
    "provision_sso_user",
    "revoke_grant",
    "revoke_role",
    "revoke_token",
    "set_clearance",
    "sign_in",
    "sign_out",
    "sso_sign_in",
    "start_session",
]
