"""Every use case has one shape: it is marked `@use_case` and listed in its feature's
`services.py`, it takes the dependencies and then an `Actor`, and nothing else in the
feature is marked as a use case without being listed.

That each writing use case appends one of its ledger events is checked by running them:
`test_writing_use_cases_record_their_events` in tests/integration/test_use_case_events.py.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import typing
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

import dangan
from dangan.usecase import Actor, use_case_info


def feature_services() -> Iterator[ModuleType]:
    for info in pkgutil.iter_modules(dangan.__path__):
        if not info.ispkg:
            continue
        try:
            yield importlib.import_module(f"dangan.{info.name}.services")
        except ModuleNotFoundError:
            continue


def listed() -> dict[str, Callable[..., Any]]:
    found = {}
    for services in feature_services():
        for name in services.__all__:
            found[f"{services.__name__}.{name}"] = getattr(services, name)
    return found


USE_CASES = listed()


def test_the_features_with_use_cases() -> None:
    features = {name.split(".")[1] for name in USE_CASES}
    assert {"access", "audit", "intake", "records"} <= features


@pytest.mark.parametrize("name", sorted(USE_CASES))
def test_a_use_case_takes_the_deps_then_an_actor(name: str) -> None:
    fn = USE_CASES[name]
    assert use_case_info(fn) is not None, f"{name} is listed but not marked @use_case"
    params = list(inspect.signature(fn).parameters.values())
    assert params[0].name == "deps"
    assert params[1].name == "actor"
    assert typing.get_type_hints(fn)["actor"] is Actor


def test_every_marked_use_case_is_listed() -> None:
    marked = set()
    for services in feature_services():
        package = importlib.import_module(services.__name__.rsplit(".", 1)[0])
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for _, fn in inspect.getmembers(module, inspect.isfunction):
                if use_case_info(fn) is not None and fn.__module__ == module.__name__:
                    marked.add(fn)
    assert marked == set(USE_CASES.values())
