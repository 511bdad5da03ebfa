"""Read the fenced blocks of a Markdown document, and build the files its examples name.

Conventions the documents follow (so their examples can be run and checked):

- a block is a fence of three backticks with an info string (`sh`, `bash`, `json`, `text` …);
- `<!-- doc-test: skip … -->` on the line(s) just before a shell block says it must not run
  (the reason follows in the comment);
- `<!-- file: PATH -->` just before a block says the block *is* that file: its text plus one
  final newline, byte for byte (docs/packages.md builds its worked examples this way).
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
SHELLS = frozenset({"sh", "bash", "shell"})

_FENCE = re.compile(r"^```(\S*)\s*$")
_MARK = re.compile(r"^<!--\s*(doc-test|file):\s*(.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    lang: str
    text: str  # without the final newline
    line: int  # 1-based line of the opening fence
    skip: str | None = None  # the reason, when marked `doc-test: skip`
    file: str | None = None  # the path, when marked `file:`

    @property
    def is_shell(self) -> bool:
        return self.lang in SHELLS

    @property
    def content(self) -> bytes:
        """The block as a file: its text and one final newline, UTF-8."""
        return (self.text + "\n").encode("utf-8")


def blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    marks: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        mark = _MARK.match(line)
        fence = _FENCE.match(line)
        if mark:
            kind, value = mark.groups()
            marks[kind] = value
        elif fence:
            end = i + 1
            while end < len(lines) and lines[end].rstrip() != "```":
                end += 1
            if end == len(lines):
                raise ValueError(f"{path.name}:{i + 1}: unclosed code fence")
            skip = marks.get("doc-test")
            if skip is not None and not skip.startswith("skip"):
                raise ValueError(f"{path.name}:{i + 1}: unknown doc-test marker {skip!r}")
            out.append(
                Block(
                    lang=fence.group(1),
                    text="\n".join(lines[i + 1 : end]),
                    line=i + 1,
                    skip=skip,
                    file=marks.get("file"),
                )
            )
            marks = {}
            i = end
        elif line.strip():
            marks = {}  # a marker applies only to the block right after it
        i += 1
    return out


def files_of(path: Path, prefix: str) -> dict[str, Block]:
    """The `file:` blocks whose path starts with `prefix/`, by the rest of their path."""
    out = {}
    for b in blocks(path):
        if b.file is not None and b.file.startswith(f"{prefix}/"):
            out[b.file[len(prefix) + 1 :]] = b
    return out


def write_files(path: Path, prefix: str, dest: Path) -> list[Path]:
    written = []
    for name, b in files_of(path, prefix).items():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b.content)
        written.append(target)
    return written


PACKAGES = DOCS / "packages.md"
EEP_NAME = "OA-2024-002.xml"
BAG_FOLDER = "oa-2024-003"
BAG_NAME = f"{BAG_FOLDER}.zip"


def build_eep(dest: Path) -> Path:
    """docs/packages.md's EEP example, written into `dest`; returns the package file."""
    write_files(PACKAGES, "eep", dest)
    return dest / EEP_NAME


def build_bag(dest: Path) -> Path:
    """docs/packages.md's BagIt example as its folder, zipped as the page says."""
    write_files(PACKAGES, "bag", dest)
    subprocess.run(
        [sys.executable, "-m", "zipfile", "-c", BAG_NAME, BAG_FOLDER],
        cwd=dest,
        check=True,
        capture_output=True,
    )
    return dest / BAG_NAME
