"""`dangan --help` imports nothing but Typer (and what Typer needs): no database layer, no
web framework, no crypto — so help prints at once. Each command imports what it uses when
it runs. (How long it takes is measured by bench/cli.py, not here.)"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("sqlalchemy", "fastapi", "starlette", "pydantic", "cryptography", "alembic", "httpx")
PROBE = """
import json, sys
sys.argv = ["dangan", *sys.argv[1:]]
from dangan.cli.entry import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["ledger", "--help"],
        ["ingest", "--help"],
        ["queue", "--help"],
        ["witness", "--help"],
    ],
)
def test_help_and_version_import_nothing_heavy(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
    assert "dangan" in done.stdout or "Usage" in done.stdout


def test_version_does_not_even_import_typer() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("dangan ")
    assert "typer" not in json.loads(done.stderr.strip().splitlines()[-1])
