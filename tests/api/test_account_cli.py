"""`dangan account …`: bootstrap the 三员, then manage accounts as a named actor."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from dangan.bootstrap import Container
from dangan.cli.main import app as cli
from dangan.ledger.models import LedgerEntry
from tests.api.conftest import TestClient
from tests.archive_kit import new_instance

PASSWORD = "Correct-Horse-9-battery"
# The console prints `[code]`, which rich takes for markup; the English text is checked.


@pytest.fixture
def console_env(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Container:
    c = new_instance(tmp_path / "cli", db_url)
    monkeypatch.setenv("DANGAN_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("DANGAN_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")
    return c


def invoke(*args: str, stdin: str | None = PASSWORD) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["account", *args], input=f"{stdin}\n" if stdin else None)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def test_account_console(console_env: Container, make_api: Callable[..., TestClient]) -> None:
    c = console_env
    try:
        code, out = invoke(
            "bootstrap", "--role", "sysadmin", "--username", "root1", "--display-name", "管理员",
            "--password-stdin",
        )  # fmt: skip
        assert code == 0, out
        # Only while nobody holds the role.
        code, out = invoke(
            "bootstrap", "--role", "sysadmin", "--username", "root2", "--display-name", "又一个",
            "--password-stdin",
        )  # fmt: skip
        assert code == 2
        assert "already holds the role" in out
        code, out = invoke(
            "bootstrap", "--role", "security_admin", "--username", "secadm",
            "--display-name", "保密员", "--password-stdin",
        )  # fmt: skip
        assert code == 0, out
        code, out = invoke(
            "bootstrap", "--role", "staff", "--username", "x-staff", "--display-name", "X",
            "--password-stdin",
        )  # fmt: skip
        assert code == 2
        assert "three administrator roles" in out

        code, out = invoke(
            "department", "create", "--actor", "root1", "--code", "BGS", "--name", "办公室",
            stdin=None,
        )  # fmt: skip
        assert code == 0, out
        code, out = invoke(
            "department", "create", "--actor", "root1", "--code", "ZHK", "--name", "综合科",
            "--parent", "BGS", stdin=None,
        )  # fmt: skip
        assert code == 0, out
        code, out = invoke(
            "create", "--actor", "root1", "--username", "alice", "--display-name", "张三",
            "--department", "ZHK", "--password-stdin",
        )  # fmt: skip
        assert code == 0, out
        code, out = invoke("role", "assign", "--actor", "root1", "--username", "alice",
                           "--role", "staff", stdin=None)  # fmt: skip
        assert code == 0, out
        code, out = invoke("role", "assign", "--actor", "root1", "--username", "alice",
                           "--role", "archivist", stdin=None)  # fmt: skip
        assert code == 0, out
        code, out = invoke("role", "revoke", "--actor", "root1", "--username", "alice",
                           "--role", "archivist", stdin=None)  # fmt: skip
        assert code == 0, out

        # 三员分立: the system administrator may not set clearances, nor hold a second role.
        code, out = invoke("clearance", "set", "--actor", "root1", "--username", "alice",
                           "--clearance", "秘密", stdin=None)  # fmt: skip
        assert code == 2
        assert "your role does not permit this" in out
        code, out = invoke("role", "assign", "--actor", "root1", "--username", "root1",
                           "--role", "staff", stdin=None)  # fmt: skip
        assert code == 2
        assert "separation of duties" in out
        code, out = invoke("clearance", "set", "--actor", "secadm", "--username", "alice",
                           "--clearance", "秘密", stdin=None)  # fmt: skip
        assert code == 0, out
        # Only the system administrator creates accounts.
        code, out = invoke(
            "create", "--actor", "secadm", "--username", "bob", "--display-name", "李四",
            "--password-stdin",
        )  # fmt: skip
        assert code == 2
        assert "your role does not permit this" in out

        # Errors are a message and exit 2, never a traceback.
        for args in (
            ("create", "--actor", "ghost", "--username", "bob", "--display-name", "B",
             "--password-stdin"),
            ("create", "--actor", "root1", "--username", "bob", "--display-name", "B",
             "--department", "NOPE", "--password-stdin"),
            ("role", "assign", "--actor", "root1", "--username", "alice", "--role", "king"),
        ):  # fmt: skip
            code, out = invoke(*args)
            assert code == 2, out
            assert "Traceback" not in out
        code, out = invoke(
            "create", "--actor", "root1", "--username", "weak", "--display-name", "W",
            "--password-stdin", stdin="short",
        )  # fmt: skip
        assert code == 2
        assert "at least" in out

        code, out = invoke("list", "--json", stdin=None)
        assert code == 0, out
        users = {u["username"]: u for u in json.loads(out)}
        assert set(users) == {"root1", "secadm", "alice"}
        assert users["alice"]["roles"] == ["staff"]
        assert users["alice"]["department"] == "ZHK"
        assert users["alice"]["clearance"] == "秘密"
        code, out = invoke("list", stdin=None)
        assert code == 0
        assert "alice" in out

        # Roles may be named as the README shows them, by their Chinese labels.
        code, out = invoke("role", "assign", "--actor", "root1", "--username", "alice",
                           "--role", "部门负责人", stdin=None)  # fmt: skip
        assert code == 0, out
        code, out = invoke("list", "--json", stdin=None)
        assert {u["username"]: u for u in json.loads(out)}["alice"]["roles"] == [
            "department_head",
            "staff",
        ]
        code, out = invoke("role", "revoke", "--actor", "root1", "--username", "alice",
                           "--role", "部门负责人", stdin=None)  # fmt: skip
        assert code == 0, out

        # The account made on the console signs in over HTTP.
        web = make_api(c, base_url="https://testserver")
        r = web.post("/api/v1/auth/sign-in", json={"username": "alice", "password": PASSWORD})
        assert r.status_code == 200, r.text
        assert r.json()["user"]["clearance"] == "秘密"

        with c.sessions() as s:
            kinds = [json.loads(e)["type"] for e in s.scalars(select(LedgerEntry.event))]
        assert "access.role_assigned" in kinds
        assert "access.clearance_set" in kinds
    finally:
        c.close()


def test_password_prompt(console_env: Container) -> None:
    result = CliRunner().invoke(
        cli,
        ["account", "bootstrap", "--role", "安全审计员", "--username", "audit1",
         "--display-name", "审计员"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip
    console_env.close()
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert result.output.strip().endswith("auditor")  # the Chinese label names the role
