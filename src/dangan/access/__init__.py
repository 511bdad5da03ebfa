"""People and systems: departments, accounts (passwords, TOTP, lockout, sessions, OIDC single
sign-on), roles with 三员分立, clearances, time-limited grants, business-system tokens, and
the record attributes and SQL filter through which `dangan.policy` sees records.
"""
