"""The shape every use case shares: who acts (`Actor`), the transaction that holds its effect
and its ledger event (`UnitOfWork`), what it needs from the composition root (`Deps`), and the
`use_case` mark that lists it. See docs/architecture.md, "One unit of work".
"""

from dangan.usecase.actor import Actor
from dangan.usecase.ports import Deps
from dangan.usecase.registry import UseCaseInfo, use_case, use_case_info
from dangan.usecase.uow import UnitOfWork, UnrecordedEffectError

__all__ = [
    "Actor",
    "Deps",
    "UnitOfWork",
    "UnrecordedEffectError",
    "UseCaseInfo",
    "use_case",
    "use_case_info",
]
