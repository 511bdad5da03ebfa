from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.witness.kit import Witness


@pytest.fixture
def make_witness(tmp_path: Path) -> Iterator[Callable[..., Witness]]:
    """Witnesses made by `dangan witness init` (not started); stopped at the end."""
    made: list[Witness] = []

    def make(name: str = "witness.example/w1") -> Witness:
        witness = Witness.init(tmp_path / f"w{len(made)}", name)
        made.append(witness)
        return witness

    yield make
    for witness in made:
        witness.stop()


def _served(directory: Path, name: str) -> Iterator[Witness]:
    witness = Witness.init(directory, name).start()
    try:
        yield witness
    finally:
        witness.stop()


@pytest.fixture(scope="module")
def witness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Witness]:
    """One running witness for a module's tests; each test watches logs of its own."""
    yield from _served(tmp_path_factory.mktemp("witness"), "witness.example/w1")


@pytest.fixture(scope="module")
def witness2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Witness]:
    yield from _served(tmp_path_factory.mktemp("witness2"), "witness.example/w2")
