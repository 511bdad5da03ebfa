"""The `dangan` executable. `--version` is answered before anything else is imported; every
other invocation goes to the root command (`dangan.cli.main`)."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from dangan import __version__

        print(f"dangan {__version__}")
        return
    from dangan.cli.main import app

    app()
