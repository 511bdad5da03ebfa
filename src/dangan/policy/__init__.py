"""THE access policy: who may do what (`decide`), and the inputs of the SQL filter that keeps
every list, count and search consistent with it (`visible_filter`).

Pure rules only (standard library and `dangan.core`), so every feature's unit of work can ask
them and they can be tested exhaustively.
"""

from dangan.policy.decision import (
    REASONS,
    Decision,
    GrantView,
    RecordAccessAttrs,
    Subject,
    VisibleFilter,
    decide,
    visible_filter,
)

__all__ = [
    "REASONS",
    "Decision",
    "GrantView",
    "RecordAccessAttrs",
    "Subject",
    "VisibleFilter",
    "decide",
    "visible_filter",
]
