"""People, departments, roles, 三员分立, sign-in, and THE access policy.

`policy.decide` is the one place that says yes or no; `services.visible_records_clause`
filters record queries consistently with it.
"""

from dangan.access.policy import (
    Decision,
    GrantView,
    RecordAccessAttrs,
    Subject,
    VisibleFilter,
    decide,
    visible_filter,
)

__all__ = [
    "Decision",
    "GrantView",
    "RecordAccessAttrs",
    "Subject",
    "VisibleFilter",
    "decide",
    "visible_filter",
]
