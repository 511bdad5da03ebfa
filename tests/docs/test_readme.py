"""README's role table and document list agree with the code and the docs folder."""

from __future__ import annotations

import re
from pathlib import Path

from dangan.policy.domain import ROLE_NAMES

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_lists_the_role_codes_the_cli_takes_with_their_chinese_names() -> None:
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| (\S+) \|", README, re.MULTILINE))
    assert rows == {code: zh for code, (zh, _en) in ROLE_NAMES.items()}


def test_readme_links_the_reference_documents_and_only_existing_ones() -> None:
    linked = set(re.findall(r"\]\((docs/[^)#]+\.md)\)", README))
    wanted = {f"docs/{n}.md" for n in ("api", "configuration", "elements", "packages")}
    assert wanted <= linked, f"README does not link {sorted(wanted - linked)}"
    missing = sorted(p for p in linked if not (ROOT / p).is_file())
    assert not missing, f"README links documents that do not exist: {missing}"
