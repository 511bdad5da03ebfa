"""`dangan witness init|trust|serve|status`: run a witness (c2sp.org/tlog-witness) — a separate
process with its own key and state, sharing nothing with any log's database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dangan.adapters.cli import print_json, run

witness_app = typer.Typer(
    rich_markup_mode=None,
    help="见证方 / witness: cosigns logs' checkpoints (c2sp.org/tlog-witness)",
    no_args_is_help=True,
)
Dir = Annotated[Path, typer.Option("--dir", help="见证方目录 / witness directory")]


def register(app: typer.Typer) -> None:
    app.add_typer(witness_app, name="witness")


@witness_app.command("init")
def init(
    directory: Dir,
    name: Annotated[str, typer.Option(help="密钥名 / key name, e.g. witness.example/w1")],
) -> None:
    """生成见证方密钥与空状态，打印公钥 / make the key and an empty state; print the public key."""
    from dangan.witness.keys import STATE_FILE, create_key
    from dangan.witness.state import WitnessState

    def _do() -> None:
        key = create_key(directory, name)
        WitnessState.create(directory / STATE_FILE)
        print_json({"name": key.name, "public_key": key.public_key.hex()})

    run(_do)


@witness_app.command("trust")
def trust(  # noqa: PLR0917 - the command's options
    directory: Dir,
    origin: Annotated[str, typer.Option(help="日志来源行 / the log's origin line")],
    public_key: Annotated[str, typer.Option(help="日志公钥（十六进制）/ log public key, hex")],
    sign: Annotated[str, typer.Option(help="ed25519 | sm2-sm3")] = "sm2-sm3",
    hash_name: Annotated[str, typer.Option("--hash", help="sm3 | sha256")] = "sm3",
    key_name: Annotated[
        str | None, typer.Option(help="签名行上的密钥名 / key name; default: the origin")
    ] = None,
) -> None:
    """见证一个日志 / witness a log: accept checkpoints of ORIGIN signed by this key."""
    from dangan.witness.domain import trusted_log
    from dangan.witness.keys import STATE_FILE
    from dangan.witness.state import WitnessState

    def _do() -> None:
        key = trusted_log(origin, hash_name, key_name or origin, sign, public_key)
        WitnessState(directory / STATE_FILE).trust(origin, hash_name, key)
        print_json({"origin": origin, "hash": hash_name, "key_name": key.name, "sign": sign})

    run(_do)


@witness_app.command("serve")
def serve(
    directory: Dir,
    host: Annotated[str, typer.Option(help="监听地址 / listen address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口 / port")] = 8380,
    prefix: Annotated[str, typer.Option(help="提交前缀 / submission prefix")] = "",
) -> None:
    """运行见证方 / serve POST {prefix}/add-checkpoint."""
    from dangan.witness.cosigning import Witness
    from dangan.witness.server import serve as serve_witness

    run(lambda: Witness.open(directory))  # a clear message for a bad directory, not a trace
    serve_witness(directory, host, port, prefix)


@witness_app.command("status")
def status(directory: Dir) -> None:
    """见证方公钥、所见证的日志及最近联署的大小 / public key, logs and latest cosigned sizes."""
    from dangan.witness.keys import STATE_FILE, public_info
    from dangan.witness.state import WitnessState

    def _do() -> None:
        state = WitnessState(directory / STATE_FILE)
        logs = {}
        for origin in state.origins():
            latest = state.latest(origin)
            logs[origin] = (
                None if latest is None else {"size": latest.size, "root": latest.root.hex()}
            )
        print_json({**public_info(directory), "logs": logs})

    run(_do)
