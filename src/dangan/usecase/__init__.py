"""The shape every use case shares: who acts (`Actor`), the transaction that holds its effect
and its ledger event (`UnitOfWork`), what it needs from the composition root (`Deps`), and the
`use_case` mark that lists it. See docs/architecture.md, "One shape for every use case".

Names are loaded on first use (PEP 562), so a CLI command that only needs `Actor` does not
pay for SQLAlchemy and the ledger at start-up.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dangan.core.errors import UnrecordedEffectError
    from dangan.usecase.actor import Actor
    from dangan.usecase.ports import Deps
    from dangan.usecase.registry import UseCaseInfo, use_case, use_case_info
    from dangan.usecase.uow import UnitOfWork, authorize

_WHERE = {
    "Actor": "actor",
    "Deps": "ports",
    "UseCaseInfo": "registry",
    "use_case": "registry",
    "use_case_info": "registry",
    "UnitOfWork": "uow",
    "UnrecordedEffectError": "uow",  # re-exported there from dangan.core.errors
    "authorize": "uow",
}

__all__ = [
    "Actor",
    "Deps",
    "UnitOfWork",
    "UnrecordedEffectError",
    "UseCaseInfo",
    "authorize",
    "use_case",
    "use_case_info",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(name)
    return getattr(import_module(f"dangan.usecase.{_WHERE[name]}"), name)
