"""`dangan account …` and `dangan token …`: the operator's console for accounts, departments,
roles, clearances and business systems' tokens.

It runs on the server, so there is no sign-in: each account change names the account it acts
as (`--actor`), and the policy checks that account's role exactly as over HTTP (三员分立
included); refusals land in the ledger. `account bootstrap` acts as Dangan's set-up, and
only while no account holds the role; token commands act as the console itself ("cli").

Only Typer and rich are imported up front (`dangan --help` stays fast); each command imports
the use case it runs.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from dangan.adapters.cli import console, print_json, run
from dangan.adapters.cli import instance as _instance

account_app = typer.Typer(
    rich_markup_mode=None, help="用户与权限 / accounts, departments and roles", no_args_is_help=True
)
department_app = typer.Typer(rich_markup_mode=None, help="部门 / departments", no_args_is_help=True)
role_app = typer.Typer(rich_markup_mode=None, help="角色 / roles", no_args_is_help=True)
clearance_app = typer.Typer(
    rich_markup_mode=None, help="涉密等级 / clearances", no_args_is_help=True
)
account_app.add_typer(department_app, name="department")
account_app.add_typer(role_app, name="role")
account_app.add_typer(clearance_app, name="clearance")
token_app = typer.Typer(
    rich_markup_mode=None, help="业务系统访问令牌 / system API tokens", no_args_is_help=True
)

ActorOpt = Annotated[str, typer.Option("--actor", help="执行操作的账户 / acting account")]
UserOpt = Annotated[str, typer.Option("--username", help="用户名 / user name")]
RoleOpt = Annotated[
    str,
    typer.Option(
        help="角色 / role: archivist 档案员, staff 业务人员, department_head 部门负责人 …"
    ),
]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="从标准输入读密码 / read password from stdin")
]
CONSOLE = "cli"  # the ledger's actor for what the console does as itself


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = typer.prompt("密码 password", hide_input=True, confirmation_prompt=True)
    return value


def _role(value: str) -> str:
    from dangan.access.accounts import role_from_label

    return role_from_label(value)


@account_app.command("bootstrap")
def bootstrap_cmd(
    ctx: typer.Context,
    role: Annotated[str, typer.Option(help="sysadmin 系统管理员 | security_admin | auditor")],
    username: UserOpt,
    display_name: Annotated[str, typer.Option("--display-name", help="姓名 / display name")],
    password_stdin: PasswordStdin = False,
) -> None:
    """初始化三员账户（该角色尚无人担任时）/ create an administrator while the role is vacant."""
    from dangan.access.accounts import bootstrap_account
    from dangan.usecase import Actor

    def _do() -> None:
        password = _password(password_stdin)
        with _instance(ctx) as deps:
            user = bootstrap_account(
                deps,
                Actor.internal("system:setup"),
                username=username,
                display_name=display_name,
                password=password,
                role=_role(role),
            )
        console.print(f"已创建 created {user.username} (id {user.id}) — {_role(role)}")

    run(_do)


@account_app.command("create")
def create_cmd(  # noqa: PLR0917 - Typer maps options to parameters
    ctx: typer.Context,
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
    from dangan.access.accounts import create_user
    from dangan.access.departments import department_id_for
    from dangan.access.subjects import actor_for_username

    def _do() -> None:
        password = None if no_password else _password(password_stdin)
        with _instance(ctx) as deps:
            dept = department_id_for(deps, department, fonds) if department else None
            user = create_user(
                deps,
                actor_for_username(deps, actor),
                username=username,
                display_name=display_name,
                password=password,
                department_id=dept,
                oidc_subject=oidc_subject,
            )
        console.print(f"已创建 created {user.username} (id {user.id})")

    run(_do)


@department_app.command("create")
def department_create(  # noqa: PLR0917 - Typer maps options to parameters
    ctx: typer.Context,
    actor: ActorOpt,
    code: Annotated[str, typer.Option(help="部门代码 / department code")],
    name: Annotated[str, typer.Option(help="部门名称 / department name")],
    parent: Annotated[str | None, typer.Option(help="上级部门代码 / parent code")] = None,
    fonds: Annotated[str | None, typer.Option(help="全宗号 / fonds code")] = None,
) -> None:
    """创建部门（系统管理员）/ create a department (as a system administrator)."""
    from dangan.access.departments import create_department, department_id_for
    from dangan.access.subjects import actor_for_username

    def _do() -> None:
        with _instance(ctx) as deps:
            parent_id = department_id_for(deps, parent, fonds) if parent else None
            dept = create_department(
                deps,
                actor_for_username(deps, actor),
                code=code,
                name=name,
                fonds_code=fonds,
                parent_id=parent_id,
            )
        console.print(f"已创建部门 created department {dept.code} {dept.name} (id {dept.id})")

    run(_do)


@role_app.command("assign")
def role_assign(ctx: typer.Context, actor: ActorOpt, username: UserOpt, role: RoleOpt) -> None:
    """授予角色 / give a user a role."""
    from dangan.access.accounts import assign_role
    from dangan.access.subjects import actor_for_username, user_id_for

    def _do() -> None:
        with _instance(ctx) as deps:
            acting = actor_for_username(deps, actor)
            assign_role(deps, acting, user_id_for(deps, username), _role(role))
        console.print(f"已授予 assigned {_role(role)} → {username}")

    run(_do)


@role_app.command("revoke")
def role_revoke(ctx: typer.Context, actor: ActorOpt, username: UserOpt, role: RoleOpt) -> None:
    """撤销角色 / take a role away."""
    from dangan.access.accounts import revoke_role
    from dangan.access.subjects import actor_for_username, user_id_for

    def _do() -> None:
        with _instance(ctx) as deps:
            acting = actor_for_username(deps, actor)
            revoke_role(deps, acting, user_id_for(deps, username), _role(role))
        console.print(f"已撤销 revoked {_role(role)} ← {username}")

    run(_do)


@clearance_app.command("set")
def clearance_set(
    ctx: typer.Context,
    actor: ActorOpt,
    username: UserOpt,
    clearance: Annotated[str, typer.Option(help="公开 内部 非密 秘密 机密 绝密")],
) -> None:
    """设置涉密等级（安全保密管理员）/ set a clearance (as the security administrator)."""
    from dangan.access.accounts import set_clearance
    from dangan.access.subjects import actor_for_username, user_id_for

    def _do() -> None:
        with _instance(ctx) as deps:
            acting = actor_for_username(deps, actor)
            set_clearance(deps, acting, user_id_for(deps, username), clearance)
        console.print(f"已设置 set {username}: {clearance}")

    run(_do)


@account_app.command("list")
def list_cmd(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """列出用户 / list accounts."""
    from dangan.access.accounts import list_users
    from dangan.usecase import Actor

    def _do() -> None:
        with _instance(ctx) as deps:
            users = list_users(deps, Actor.internal(CONSOLE))
        rows = [
            {
                "id": u.id,
                "username": u.username,
                "display_name": u.display_name,
                "department": u.department_code,
                "roles": list(u.roles),
                "clearance": u.clearance,
                "status": u.status,
                "totp": u.totp_enabled,
                "sso": u.sso,
            }
            for u in users
        ]
        if as_json:
            print_json(rows)
            return
        from rich.table import Table

        table = Table()
        for title in ("id", "用户名 user", "姓名 name", "部门 dept", "角色 roles", "密级", "状态"):
            table.add_column(title)
        for u in users:
            table.add_row(
                str(u.id),
                u.username,
                u.display_name,
                u.department_code or "",
                " ".join(u.roles),
                u.clearance,
                u.status,
            )
        console.print(table)

    run(_do)


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    system: Annotated[str, typer.Option(help="业务系统名 / system name, e.g. oa")],
    scope: Annotated[
        list[str], typer.Option(help="submit / read_catalogue（可重复 / repeatable）")
    ],
    rate: Annotated[int, typer.Option(help="每分钟请求上限，0 不限 / requests per minute")] = 60,
) -> None:
    """签发令牌（只显示一次）/ issue a token (shown once)."""
    from dangan.access.tokens import create_token
    from dangan.usecase import Actor

    def _do() -> None:
        with _instance(ctx) as deps:
            plaintext, token = create_token(deps, Actor.internal(CONSOLE), system, scope, rate)
        console.print(f"令牌 token id {token.id}  系统 system {token.system}  {list(token.scopes)}")
        console.print("请妥善保存，仅显示一次 / store it now, it is shown only once:")
        print(plaintext)  # plain stdout so scripts can capture it

    run(_do)


@token_app.command("list")
def token_list(ctx: typer.Context) -> None:
    """列出令牌 / list tokens."""
    from dangan.access.tokens import list_tokens
    from dangan.usecase import Actor

    def _do() -> None:
        from rich.table import Table

        table = Table()
        table.add_column("id", no_wrap=True)
        for title in ("系统 system", "范围 scopes", "每分钟 rate", "最近使用 last used", "状态"):
            table.add_column(title)
        with _instance(ctx) as deps:
            tokens = list_tokens(deps, Actor.internal(CONSOLE))
        for t in tokens:
            table.add_row(
                t.id,
                t.system,
                " ".join(t.scopes),
                str(t.rate_limit_per_minute),
                t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "",
                "已吊销 revoked" if t.revoked_at else "有效 active",
            )
        console.print(table)

    run(_do)


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, token_id: str) -> None:
    """吊销令牌 / revoke a token."""
    from dangan.access.tokens import revoke_token
    from dangan.usecase import Actor

    def _do() -> None:
        with _instance(ctx) as deps:
            t = revoke_token(deps, Actor.internal(CONSOLE), token_id)
        console.print(f"已吊销 revoked {t.id} ({t.system})")

    run(_do)
