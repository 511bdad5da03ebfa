"""Every example of docs/api.md runs, as written, in order, against a live server.

A fresh instance (temporary DANGAN_DATA_DIR, `dangan init`) is served by uvicorn on a free
port; the page's `sh` blocks run in document order in ONE bash process under
`set -euo pipefail` (so the variables one block sets are there for the next), `python` blocks
through the test's own interpreter. The tokens and accounts the examples need are made by the
page's own `dangan token` / `dangan account` blocks. The only inputs supplied from outside are
the integrator's files: `正文.pdf`, and the two packages docs/packages.md builds.

A block marked `<!-- doc-test: skip … -->` is not run; the page keeps those rare.
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from dangan.web.cli import serve
from tests.api.live_server import LiveServer, instance_env, serve_instance
from tests.docs.doc_blocks import DOCS, Block, blocks, build_bag, build_eep

API = DOCS / "api.md"
ROOT = DOCS.parent
RUN_TIMEOUT = 300.0  # seconds for all the blocks together
MARK = "@@dangan-doc-block"
PY_END = "DANGAN_DOC_PYTHON_END"


@dataclass(frozen=True)
class Run:
    returncode: int
    output: str


def _dangan() -> Path:
    """The `dangan` executable installed next to the running interpreter."""
    exe = Path(sys.executable).parent / "dangan"
    assert exe.exists(), f"no dangan executable next to {sys.executable}"
    return exe


def _write_pdf(path: Path) -> None:
    """The integrator's document: a real one-page PDF with Chinese text."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    page = canvas.Canvas(str(path))
    page.setFont("STSong-Light", 14)
    page.drawString(72, 760, "关于开展安全生产大检查的通知")
    page.drawString(72, 730, "各有关单位：请认真开展安全生产大检查。")
    page.save()


def runnable(all_blocks: list[Block]) -> list[Block]:
    return [b for b in all_blocks if (b.is_shell or b.lang == "python") and b.skip is None]


def script(to_run: list[Block]) -> str:
    """One bash script: each block between start/end markers, in document order."""
    parts = [
        "set -euo pipefail",
        # Name the command that stopped the run (a `[ "$status" = 404 ]` check prints nothing).
        """trap 'rc=$?; printf "\\n!! exit %s from: %s\\n" "$rc" "$BASH_COMMAND"' ERR""",
    ]
    for n, b in enumerate(to_run):
        parts.append(f"printf '\\n{MARK} {n} start\\n'")
        if b.lang == "python":
            assert PY_END not in b.text
            parts.append(f"\"$DANGAN_TEST_PYTHON\" - <<'{PY_END}'\n{b.text}\n{PY_END}")
        else:
            parts.append(b.text)
        parts.append(f"printf '\\n{MARK} {n} end\\n'")
    return "\n".join(parts) + "\n"


def failure_report(to_run: list[Block], run: Run, server: LiveServer) -> str:
    """Which block failed, its text and what it printed (and the server's last words)."""
    started = [int(n) for n in re.findall(rf"^{MARK} (\d+) start$", run.output, re.M)]
    ended = {int(n) for n in re.findall(rf"^{MARK} (\d+) end$", run.output, re.M)}
    open_blocks = [n for n in started if n not in ended]
    if not open_blocks:
        return f"the script failed outside any block (exit {run.returncode}):\n{run.output[-4000:]}"
    n = open_blocks[-1]
    b = to_run[n]
    printed = run.output.split(f"{MARK} {n} start\n", 1)[1]
    return (
        f"docs/api.md line {b.line}: this ```{b.lang} block failed (exit {run.returncode}):\n\n"
        f"{b.text}\n\n--- its output ---\n{printed[-6000:]}\n"
        f"--- server log (tail) ---\n{server.log_text()[-3000:]}"
    )


@pytest.fixture
def instance(tmp_path: Path) -> tuple[Path, str, dict[str, str]]:
    """A fresh, initialised instance and the environment its commands run with."""
    if shutil.which("curl") is None or shutil.which("bash") is None:
        pytest.fail("the docs/api.md examples need curl and bash on PATH")
    data_dir = tmp_path / "instance"
    db_url = f"sqlite:///{tmp_path / 'dangan.db'}"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dangan").symlink_to(_dangan())
    extra = {
        "DANGAN_ARGON2_PROFILE": "test",  # cheap password hashing, as in the rest of the suite
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "DANGAN_TEST_PYTHON": sys.executable,
        "LC_ALL": "C.UTF-8",
    }
    env = instance_env(data_dir, db_url, extra)
    subprocess.run([str(_dangan()), "init"], env=env, check=True, capture_output=True, timeout=120)
    return data_dir, db_url, env


def test_api_examples_run_against_a_live_server(
    tmp_path: Path, instance: tuple[Path, str, dict[str, str]]
) -> None:
    data_dir, db_url, env = instance
    work = tmp_path / "work"
    work.mkdir()
    _write_pdf(work / "正文.pdf")
    build_eep(work)  # OA-2024-002.xml
    build_bag(work)  # oa-2024-003.zip
    to_run = runnable(blocks(API))
    assert len(to_run) >= 10, "docs/api.md lost its examples"
    (tmp_path / "examples.sh").write_text(script(to_run), encoding="utf-8")

    with serve_instance(data_dir, db_url, env={"DANGAN_ARGON2_PROFILE": "test"}) as server:
        proc = subprocess.run(
            ["bash", str(tmp_path / "examples.sh")],
            cwd=work,
            env={**env, "DANGAN_URL": server.url},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=RUN_TIMEOUT,
            check=False,
        )
        run = Run(proc.returncode, proc.stdout.decode("utf-8", errors="replace"))
        print(run.output)  # shown by pytest with the result when something later fails
        if run.returncode != 0:
            pytest.fail(failure_report(to_run, run, server), pytrace=False)
        assert f"{MARK} {len(to_run) - 1} end" in run.output
        assert "Traceback" not in server.log_text(), server.log_text()[-4000:]

    # What the page quotes is what the examples really produced.
    import json

    receipt = json.loads((work / "receipt.json").read_text(encoding="utf-8"))
    text = API.read_text(encoding="utf-8")
    codes = set(re.findall(r"Z\d+-WS·\d{4}-[A-Z0-9]+-[A-Z0-9]+-\d{4}", text))
    assert codes == {receipt["archival_code"]}, (
        f"docs/api.md quotes archival codes {sorted(codes)}, the server made "
        f"{receipt['archival_code']}"
    )
    ids = set(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text))
    assert ids == {receipt["record_id"]}, f"docs/api.md quotes record ids {sorted(ids)}"


def test_default_address_matches_dangan_serve_and_scripts_start() -> None:
    text = API.read_text(encoding="utf-8")
    port = inspect.signature(serve).parameters["port"].default
    assert f"export DANGAN_URL=${{DANGAN_URL:-http://127.0.0.1:{port}}}" in text
    start = (ROOT / "scripts" / "start").read_text(encoding="utf-8")
    found = re.search(r"DANGAN_PORT:-(\d+)", start)
    assert found is not None
    assert f"DANGAN_URL=http://127.0.0.1:{found[1]}" in text


def test_skipped_blocks_are_rare_and_say_why() -> None:
    skipped = [b for b in blocks(API) if b.is_shell and b.skip is not None]
    assert len(skipped) <= 2, [b.line for b in skipped]
    for b in skipped:
        assert len(b.skip or "") > len("skip —"), f"line {b.line}: say why the block is skipped"
