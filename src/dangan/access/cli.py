"""`dangan account …`: the operator console for accounts, departments, roles, clearances.

It runs on the server, so there is no sign-in: each change names the account it acts as
(`--actor`), and the policy checks that account's role exactly as over HTTP (三员分立
included); refusals land in the ledger. Only `bootstrap` acts for nobody, and only while
no account holds the role.
"""

from __future__ import annotations

import sys
from contextlib import closing
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select

from dangan.cli.common import console, print_json, run
from dangan.cli.container import open_container
from dangan.core.errors import InvalidInputError, NotFoundError, Problem

account_app = typer.Typer(help="用户与权限 / accounts, departments and roles", no_args_is_help=True)
department_app = typer.Typer(help="部门 / departments", no_args_is_help=True)
role_app = typer.Typer(help="角色 / roles", no_args_is_help=True)
clearance_app = typer.Typer(help="涉密等级 / clearances", no_args_is_help=True)
account_app.add_typer(department_app, name="department")
account_app.add_typer(role_app, name="role")
account_app.add_typer(clearance_app, name="clearance")

ActorOpt = Annotated[str, typer.Option("--actor", help="执行操作的账户 / acting account")]
UserOpt = Annotated[str, typer.Option("--username", help="用户名 / user name")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="从标准输入读密码 / read password from stdin")
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = typer.prompt("密码 password", hide_input=True, confirmation_prompt=True)
    return value


def _user_id(c: Any, username: str, field: str = "username") -> int:
    from dangan.access.models import User

    with c.sessions() as s:
        found = s.scalar(select(User.id).where(User.username == username))
    if found is None:
        raise NotFoundError(
            code="user_not_found",
            zh=f"用户 {username} 不存在",
            en=f"no user {username}",
            problems=[Problem(field, "not_found", "用户不存在", "no such user")],
        )
    return int(found)


def _department_id(c: Any, code: str, fonds: str | None) -> int:
    from dangan.access.models import Department

    fonds_code = fonds or c.settings.default_fonds
    with c.sessions() as s:
        found = s.scalar(
            select(Department.id).where(
                Department.fonds_code == fonds_code, Department.code == code
            )
        )
    if found is None:
        raise InvalidInputError.of(
            [Problem("department", "not_found", f"部门 {code} 不存在", f"no department {code}")]
        )
    return int(found)


@account_app.command("bootstrap")
def bootstrap_cmd(
    role: Annotated[str, typer.Option(help="sysadmin | security_admin | auditor")],
    username: UserOpt,
    display_name: Annotated[str, typer.Option("--display-name", help="姓名 / display name")],
    password_stdin: PasswordStdin = False,
) -> None:
    """初始化三员账户（该角色尚无人担任时）/ create an administrator while the role is vacant."""
    from dangan.access.services import bootstrap_account

    def _do() -> None:
        password = _password(password_stdin)
        with closing(open_container()) as c:
            user = bootstrap_account(
                c, username=username, display_name=display_name, password=password, role=role
            )
        console.print(f"已创建 created {user.username} (id {user.id}) — {role}")

    run(_do)


@account_app.command("create")
def create_cmd(  # noqa: PLR0917 - Typer maps options to parameters
    actor: ActorOpt,
    username: UserOpt,
    display_name: Annotated[str, typer.Option("--display-name", help="姓名 / display name")],
    department: Annotated[str | None, typer.Option(help="部门代码 / department code")] = None,
    fonds: Annotated[str | None, typer.Option(help="全宗号 / fonds code")] = None,
    oidc_subject: Annotated[
        str | None,
        typer.Option("--oidc-subject", help="统一身份认证 sub（仅用 SSO 登录时可不设密码）"),
    ] = None,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="仅 SSO 登录 / SSO only, no password")
    ] = False,
    password_stdin: PasswordStdin = False,
) -> None:
    """创建用户（系统管理员）/ create an account (as a system administrator)."""
    from dangan.access.services import create_user

    def _do() -> None:
        password = None if no_password else _password(password_stdin)
        with closing(open_container()) as c:
            dept = _department_id(c, department, fonds) if department else None
            user = create_user(
                c,
                _user_id(c, actor, "actor"),
                username=username,
                display_name=display_name,
                password=password,
                department_id=dept,
                oidc_subject=oidc_subject,
            )
        console.print(f"已创建 created {user.username} (id {user.id})")

    run(_do)


@department_app.command("create")
def department_create(
    actor: ActorOpt,
    code: Annotated[str, typer.Option(help="部门代码 / department code")],
    name: Annotated[str, typer.Option(help="部门名称 / department name")],
    parent: Annotated[str | None, typer.Option(help="上级部门代码 / parent code")] = None,
    fonds: Annotated[str | None, typer.Option(help="全宗号 / fonds code")] = None,
) -> None:
    """创建部门（系统管理员）/ create a department (as a system administrator)."""
    from dangan.access.services import create_department

    def _do() -> None:
        with closing(open_container()) as c:
            parent_id = _department_id(c, parent, fonds) if parent else None
            dept = create_department(
                c,
                _user_id(c, actor, "actor"),
                code=code,
                name=name,
                fonds_code=fonds,
                parent_id=parent_id,
            )
        console.print(f"已创建部门 created department {dept.code} {dept.name} (id {dept.id})")

    run(_do)


@role_app.command("assign")
def role_assign(
    actor: ActorOpt, username: UserOpt, role: Annotated[str, typer.Option(help="角色 / role")]
) -> None:
    """授予角色 / give a user a role."""
    from dangan.access.services import assign_role

    def _do() -> None:
        with closing(open_container()) as c:
            assign_role(c, _user_id(c, actor, "actor"), _user_id(c, username), role)
        console.print(f"已授予 assigned {role} → {username}")

    run(_do)


@role_app.command("revoke")
def role_revoke(
    actor: ActorOpt, username: UserOpt, role: Annotated[str, typer.Option(help="角色 / role")]
) -> None:
    """撤销角色 / take a role away."""
    from dangan.access.services import revoke_role

    def _do() -> None:
        with closing(open_container()) as c:
            revoke_role(c, _user_id(c, actor, "actor"), _user_id(c, username), role)
        console.print(f"已撤销 revoked {role} ← {username}")

    run(_do)


@clearance_app.command("set")
def clearance_set(
    actor: ActorOpt,
    username: UserOpt,
    clearance: Annotated[str, typer.Option(help="公开 内部 非密 秘密 机密 绝密")],
) -> None:
    """设置涉密等级（安全保密管理员）/ set a clearance (as the security administrator)."""
    from dangan.access.services import set_clearance

    def _do() -> None:
        with closing(open_container()) as c:
            set_clearance(c, _user_id(c, actor, "actor"), _user_id(c, username), clearance)
        console.print(f"已设置 set {username}: {clearance}")

    run(_do)


@account_app.command("list")
def list_cmd(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """列出用户 / list accounts."""
    from dangan.access.models import Department, RoleAssignment, User

    def _do() -> None:
        with closing(open_container()) as c, c.sessions() as s:
            depts = {d.id: d.code for d in s.scalars(select(Department))}
            roles: dict[int, list[str]] = {}
            for ra in s.scalars(select(RoleAssignment).order_by(RoleAssignment.role)):
                roles.setdefault(ra.user_id, []).append(ra.role)
            rows = [
                {
                    "id": u.id,
                    "username": u.username,
                    "display_name": u.display_name,
                    "department": depts.get(u.department_id) if u.department_id else None,
                    "roles": roles.get(u.id, []),
                    "clearance": u.clearance,
                    "status": u.status,
                    "totp": u.totp_enabled,
                    "sso": u.oidc_subject is not None,
                }
                for u in s.scalars(select(User).order_by(User.id))
            ]
        if as_json:
            print_json(rows)
            return
        table = Table()
        for title in ("id", "用户名 user", "姓名 name", "部门 dept", "角色 roles", "密级", "状态"):
            table.add_column(title)
        for r in rows:
            table.add_row(
                str(r["id"]),
                str(r["username"]),
                str(r["display_name"]),
                str(r["department"] or ""),
                " ".join(r["roles"]),  # type: ignore[arg-type]
                str(r["clearance"]),
                str(r["status"]),
            )
        console.print(table)

    run(_do)
