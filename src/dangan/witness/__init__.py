"""A witness (c2sp.org/tlog-witness): a separate process, with its own Ed25519 key and its own
SQLite state, that cosigns a log's checkpoints only when each extends, consistently, the last
one it cosigned — so a rollback or a fork is refused even to someone holding the log's key.

Not a feature with use cases: it has no actor, no unit of work and no ledger of its own; its
state is the latest (size, root) per log. `dangan witness init|trust|serve|status`.
"""
