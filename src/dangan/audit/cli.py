"""`dangan ledger verify|prove|check|checkpoint`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from dangan.adapters.cli import console, instance, operator, print_json, run

# What a checker trusts: a bundle names its algorithms, so the checker pins them.
TRUSTED = {"sm": ("sm3", "sm2-sm3"), "intl": ("sha256", "ed25519")}
ledger_app = typer.Typer(
    rich_markup_mode=None, help="审计账本 / audit ledger", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(ledger_app, name="ledger")


@ledger_app.command("verify")
def verify(ctx: typer.Context) -> None:
    """重算整个账本 / recompute the whole ledger; names any altered, deleted or moved entry."""
    from dangan.audit.services import verify_ledger

    with instance(ctx, recover=False) as deps:
        report = verify_ledger(deps, operator())
    print_json(report.as_dict())
    if not report.ok:
        raise typer.Exit(1)


@ledger_app.command("prove")
def prove(
    ctx: typer.Context,
    seq: int,
    out: Annotated[Path | None, typer.Option(help="写入文件 / write to file")] = None,
) -> None:
    """打印可由外部仅凭公钥验证的证明 / print a proof checkable with the public key alone."""
    from dangan.audit.services import prove_entry

    with instance(ctx, recover=False) as deps:
        bundle = prove_entry(deps, operator(), seq)
    if out:
        out.write_text(json.dumps(bundle, ensure_ascii=False, indent=2), encoding="utf-8")
        console.print(f"已写入 written: {out}")
    else:
        print_json(bundle)


@ledger_app.command("check")
def check(  # noqa: PLR0917 - the command's options
    files: Annotated[
        list[Path],
        typer.Argument(
            help="证明包；或保存的检查点注记及其间的一致性证明 / a proof bundle; or saved "
            "checkpoint notes, with the consistency proofs between them"
        ),
    ],
    public_key: Annotated[str, typer.Option(help="公钥（十六进制）/ public key hex")],
    suite: Annotated[str, typer.Option(help="信任的算法套件 / trusted suite: sm | intl")] = "sm",
    url: Annotated[
        str | None,
        typer.Option(help="向日志索取一致性证明 / fetch consistency proofs from this Dangan"),
    ] = None,
    token: Annotated[
        str | None, typer.Option(envvar="DANGAN_TOKEN", help="read_ledger 令牌 / token")
    ] = None,
    witness: Annotated[
        list[str] | None,
        typer.Option(help="信任的见证方 / trusted witness NAME=HEX (Ed25519), repeatable"),
    ] = None,
    quorum: Annotated[
        int | None, typer.Option(help="须联署的见证方数 / cosignatures required; default: all")
    ] = None,
) -> None:
    """外部验证（无需数据库）/ check a proof bundle, or a chain of checkpoints saved over time,
    with the public key only."""
    from dangan.audit.checking import check_bundle, check_notes

    def _do() -> None:
        named = TRUSTED.get(suite)
        if named is None:
            raise typer.BadParameter(f"unknown suite {suite}")
        key = bytes.fromhex(public_key)
        trusted = _witnesses(witness or [])
        texts = [f.read_text(encoding="utf-8") for f in files]
        if len(texts) == 1 and texts[0].lstrip().startswith("{"):
            bundle = json.loads(texts[0])
            result = check_bundle(bundle, key, named)
            notes = [bundle.get("checkpoint_note", bundle.get("checkpoint"))]
        else:
            notes = [t for t in texts if not t.lstrip().startswith("{")]
            saved = [json.loads(t) for t in texts if t.lstrip().startswith("{")]
            result = check_notes(notes, key, named, url, token, saved)
        if trusted or quorum:
            _check_witnesses(result, notes, trusted, len(trusted) if quorum is None else quorum)
        print_json(result)
        if not result["ok"]:
            raise typer.Exit(1)

    run(_do)


def _witnesses(options: list[str]) -> dict[str, bytes]:
    """`NAME=HEX` options as witness name → Ed25519 public key."""
    from dangan.core.errors import invalid

    trusted = {}
    for option in options:
        name, _, key = option.rpartition("=")
        try:
            public = bytes.fromhex(key)
        except ValueError:
            public = b""
        if not name or len(public) != 32:
            raise invalid(
                "witness",
                "bad_witness",
                f"见证方须为 名称=公钥: {option}",
                f"not NAME=HEX: {option}",
            )
        trusted[name] = public
    return trusted


def _check_witnesses(
    result: dict[str, Any], notes: list[Any], trusted: dict[str, bytes], k: int
) -> None:
    """Add to `result` what keeps each checkpoint note from `k` of `trusted` cosignatures."""
    from dangan.core.errors import DanganError
    from dangan.crypto import verifier_for
    from dangan.ledger.note import check_witnessed, parse_checkpoint, parse_note

    if not all(isinstance(n, str) for n in notes):
        result["witnesses"] = "skipped: the checkpoint is not a signed note"
        return
    problems = []
    for text in notes:
        try:
            note = parse_note(text)
            size = parse_checkpoint(note.text).size
        except DanganError as exc:
            problems.append(f"the checkpoint note is malformed: {exc.en}")
            continue
        found = check_witnessed(note, trusted, k, verifier_for("ed25519"))
        problems += [f"checkpoint {size}: {p}" for p in found]
    result["witnesses"] = {"quorum": k, "trusted": sorted(trusted), "problems": problems}
    if problems:
        result["ok"] = False
        result["problems"] = [*result.get("problems", []), *problems]


@ledger_app.command("checkpoint")
def checkpoint(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON 而非签名注记 / JSON")] = False,
) -> None:
    """最新检查点（C2SP 签名注记）/ the latest checkpoint, as a C2SP signed note."""
    from dangan.audit.services import latest_checkpoint

    with instance(ctx, recover=False) as deps:
        cp = latest_checkpoint(deps, operator())
    if as_json:
        print_json(cp.as_dict())
    else:
        sys.stdout.write(cp.note)


@ledger_app.command("consistency")
def consistency(ctx: typer.Context, old: int, new: int) -> None:
    """一致性证明：大小 NEW 的树是否延续 OLD / proof that tree NEW extends tree OLD."""
    from dangan.audit.services import consistency as prove_consistency

    with instance(ctx, recover=False) as deps:
        print_json(prove_consistency(deps, operator(), old, new))
