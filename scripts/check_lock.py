"""Check .venv against a lock (run by scripts/install with .venv/bin/python).

    .venv/bin/python scripts/check_lock.py requirements/test.txt [EXTRA ...]

Fails (exit 1, the reasons on stderr) when
- a pin of the lock that applies to this machine is not installed at exactly its version, or
- a requirement of dangan in pyproject.toml (the base list and the given extras) has no pin in
  the lock that satisfies it: the lock is older than pyproject.toml, and `scripts/lock` must run.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

try:
    from packaging.markers import Marker
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
except ImportError:  # the runtime lock need not hold packaging; pip vendors a copy
    from pip._vendor.packaging.markers import Marker
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.utils import canonicalize_name

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]*?))?\s*\\?$")


def main(lock_path: str, *extras: str) -> int:
    pins: dict[str, str] = {}
    applies: dict[str, bool] = {}
    for line in Path(lock_path).read_text(encoding="utf-8").splitlines():
        if m := PIN.match(line):
            name = canonicalize_name(m[1])
            pins[name] = m[2]
            applies[name] = m[3] is None or Marker(m[3]).evaluate()
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    problems = [
        f"{name}: lock has {version}, .venv has {installed.get(name, 'nothing')}"
        for name, version in sorted(pins.items())
        if applies[name] and installed.get(name) != version
    ]
    try:
        own = metadata.requires("dangan") or []
    except metadata.PackageNotFoundError:
        own = []
        problems.append("dangan: not installed in .venv")
    stale = []
    for text in own:
        req = Requirement(text)
        wanted = req.marker is None or any(
            req.marker.evaluate({"extra": extra}) for extra in ("", *extras)
        )
        if not wanted:
            continue
        pin = pins.get(canonicalize_name(req.name))
        if pin is None or not req.specifier.contains(pin, prereleases=True):
            stale.append(f"pyproject.toml wants {text}, {lock_path} has {pin or 'nothing'}")
    if stale:
        problems += [*stale, f"{lock_path} is older than pyproject.toml: run scripts/lock"]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
