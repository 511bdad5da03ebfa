"""The `dangan` command end to end on SQLite (in-process through Typer's runner)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dangan.cli.main import app
from tests.archive_kit import NOTICE, UNCLASSIFIABLE, sm3_hex, write_doc


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DANGAN_DATA_DIR", str(tmp_path / "inst"))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    return runner


def _json(output: str) -> dict:  # type: ignore[type-arg]
    return json.loads(output[output.index("{") :])


def test_demo_search_show_verify_and_ledger(cli: CliRunner, tmp_path: Path) -> None:
    out = cli.invoke(app, ["demo", "--count", "8"])
    assert out.exit_code == 0, out.output
    assert "已归档 archived 8" in out.output

    found = _json(cli.invoke(app, ["search", "通知", "--json"]).output)
    assert found["total"] >= 1
    code = found["hits"][0]["archival_code"]
    assert code.startswith("Z109-WS·")

    shown = _json(cli.invoke(app, ["show", code]).output)
    assert shown["archival_code"] == code
    assert shown["check_reports"][0]["passed"] is True

    verified = cli.invoke(app, ["verify", code])
    assert verified.exit_code == 0
    assert _json(verified.output)["ok"] is True

    ledger = cli.invoke(app, ["ledger", "verify"])
    assert ledger.exit_code == 0
    # 8 archived, then the operator's search and show: reading leaves a trace too.
    assert _json(ledger.output)["size"] == 8 + 2

    proof = tmp_path / "proof.json"
    assert cli.invoke(app, ["ledger", "prove", "3", "--out", str(proof)]).exit_code == 0
    public_key = json.loads((tmp_path / "inst" / "keys" / "keys.json").read_text())["public_key"]
    checked = cli.invoke(app, ["ledger", "check", str(proof), "--public-key", public_key])
    assert checked.exit_code == 0, checked.output
    bundle = json.loads(proof.read_text())
    bundle["event"] = bundle["event"].replace("record.archived", "record.destroyed")
    proof.write_text(json.dumps(bundle))
    forged = cli.invoke(app, ["ledger", "check", str(proof), "--public-key", public_key])
    assert forged.exit_code == 1

    assert cli.invoke(app, ["rebuild"]).exit_code == 2  # needs --yes
    rebuilt = cli.invoke(app, ["rebuild", "--yes"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "重建 rebuilt 8" in rebuilt.output
    after = _json(cli.invoke(app, ["ledger", "verify"]).output)
    # every event restored from the storage copy (8 archived, a search, a show), plus the rebuild
    assert after["size"] == 8 + 2 + 1
    assert _json(cli.invoke(app, ["search", "通知", "--json"]).output)["total"] == found["total"]


def test_ingest_file_folder_and_queue(cli: CliRunner, tmp_path: Path) -> None:
    doc = write_doc(tmp_path / "one", "正文.txt", "关于开展安全生产大检查的通知 正文")
    meta = tmp_path / "one" / "meta.json"
    meta.write_text(json.dumps({"source_id": "OA-7", "metadata": NOTICE}, ensure_ascii=False))
    out = cli.invoke(app, ["ingest", str(doc), "-m", str(meta)])
    assert out.exit_code == 0, out.output
    receipt = _json(out.output)
    assert receipt["archival_code"] == "Z109-WS·2024-D30-BGS-0001"
    assert receipt["files"][0]["sm3"] == sm3_hex(doc)

    folder = tmp_path / "batch"
    write_doc(folder, "a.txt", "安全生产检查通知正文")
    (folder / "a.json").write_text(json.dumps(NOTICE, ensure_ascii=False))
    write_doc(folder, "b.txt", "杂项")
    (folder / "b.json").write_text(json.dumps(UNCLASSIFIABLE, ensure_ascii=False))
    write_doc(folder, "c.txt", "缺少题名")
    (folder / "c.json").write_text(json.dumps({"author": "某单位"}, ensure_ascii=False))
    batch = cli.invoke(app, ["ingest", str(folder)])
    assert batch.exit_code == 1  # one item failed, and says why
    assert "a.json → Z109-WS·2024-D30-BGS-0002" in batch.output
    assert "b.json → 待整理" in batch.output
    assert "missing_mandatory" in batch.output
    assert "archived 1，待整理 queued 1，失败 failed 1" in batch.output

    queue = cli.invoke(app, ["queue", "list"])
    assert "杂项材料汇编" in queue.output
    shown = _json(cli.invoke(app, ["search", "杂项", "--json"]).output)
    record_id = shown["hits"][0]["record_id"]
    confirm = ["queue", "confirm", record_id, "--actor", "dang"]
    unknown = cli.invoke(app, [*confirm, "--retention", "D10"])
    assert unknown.exit_code == 2
    assert "user_not_found" in unknown.output
    _account(cli, "dang", role=None)
    bad = cli.invoke(app, [*confirm, "--retention", "forever"])
    assert bad.exit_code == 2
    assert "retention" in bad.output
    # Confirming is an archivist's work: to an account without the role the record is not
    # even there.
    refused = cli.invoke(app, [*confirm, "--retention", "D10", "--org", "BGS"])
    assert refused.exit_code == 2
    assert "record_not_found" in refused.output
    _grant_role(cli, "dang", "archivist")
    ok = cli.invoke(app, [*confirm, "--retention", "D10", "--org", "BGS"])
    assert ok.exit_code == 0, ok.output
    assert _json(ok.output)["archival_code"] == "Z109-WS·2024-D10-BGS-0001"


def test_ingest_takes_an_idempotency_key_like_the_api(cli: CliRunner, tmp_path: Path) -> None:
    """The console submits through the same use case as HTTP: a key replays the first answer
    and refuses a different submission."""
    doc = write_doc(tmp_path / "k", "正文.txt", "关于开展安全生产大检查的通知 正文")
    meta = tmp_path / "k" / "meta.json"
    meta.write_text(json.dumps({"source_id": "OA-9", "metadata": NOTICE}, ensure_ascii=False))
    args = ["ingest", str(doc), "-m", str(meta), "--source-system", "oa"]
    first = cli.invoke(app, [*args, "--idempotency-key", "k-1"])
    assert first.exit_code == 0, first.output
    again = cli.invoke(app, [*args, "--idempotency-key", "k-1"])
    assert again.exit_code == 0, again.output
    assert _json(again.output)["replayed"] is True
    assert _json(again.output)["archival_code"] == _json(first.output)["archival_code"]
    doc.write_text("另一份正文", encoding="utf-8")
    other = cli.invoke(app, [*args, "--idempotency-key", "k-1"])
    assert other.exit_code == 2
    assert "idempotency_key_reused" in other.output
    ledger = _json(cli.invoke(app, ["ledger", "verify"]).output)
    assert ledger["size"] == 1  # one archiving, nothing else written twice


def _account(cli: CliRunner, username: str, role: str | None) -> None:
    """An account made through the operator console: the sysadmin first, if need be."""
    pw = "Archive-2024!\n"
    cli.invoke(
        app,
        [
            *("account", "bootstrap", "--role", "sysadmin", "--username", "admin"),
            *("--display-name", "管理员", "--password-stdin"),
        ],
        input=pw,
    )
    made = cli.invoke(
        app,
        [
            *("account", "create", "--actor", "admin", "--username", username),
            *("--display-name", username, "--password-stdin"),
        ],
        input=pw,
    )
    assert made.exit_code == 0, made.output
    if role is not None:
        _grant_role(cli, username, role)


def _grant_role(cli: CliRunner, username: str, role: str) -> None:
    got = cli.invoke(
        app,
        [
            *("account", "role", "assign", "--actor", "admin", "--username", username),
            *("--role", role),
        ],
    )
    assert got.exit_code == 0, got.output


def test_checkpoints_saved_over_time_are_checked_offline(cli: CliRunner, tmp_path: Path) -> None:
    """A holder keeps checkpoints and the consistency proofs between them; `ledger check`
    tells from them alone, with the public key, that the log only grew."""
    public_key = json.loads((tmp_path / "inst" / "keys" / "keys.json").read_text())["public_key"]
    notes = []
    assert cli.invoke(app, ["demo", "--count", "3"]).exit_code == 0
    for n in (1, 2):
        assert cli.invoke(app, ["search", "通知"]).exit_code == 0  # a search is on the log too
        note = tmp_path / f"cp{n}.txt"
        note.write_text(cli.invoke(app, ["ledger", "checkpoint"]).output, encoding="utf-8")
        notes.append(note)
    old, new = (int(p.read_text().splitlines()[1]) for p in notes)
    assert 0 < old < new
    proof = tmp_path / "consistency.json"
    proof.write_text(cli.invoke(app, ["ledger", "consistency", str(old), str(new)]).output)

    def check(*files: Path, key: str = public_key) -> tuple[int, dict]:  # type: ignore[type-arg]
        got = cli.invoke(app, ["ledger", "check", *map(str, files), "--public-key", key])
        return got.exit_code, _json(got.output)

    assert check(*notes, proof) == (0, {"ok": True, "sizes": [old, new], "problems": []})
    code, out = check(*notes)  # no proof between them: nothing shows the log only grew
    assert code == 1
    assert out["problems"] == [f"{old} → {new}: no consistency proof to check"]

    doc = json.loads(proof.read_text())
    first = base64.b64decode(doc["proof"][0])
    doc["proof"][0] = base64.b64encode(bytes([first[0] ^ 1]) + first[1:]).decode()
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    code, out = check(*notes, forged)
    assert code == 1
    assert len(out["problems"]) == 1
    assert f"{old}" in out["problems"][0]
    assert f"{new}" in out["problems"][0]

    forged.write_text(json.dumps({"old": old, "new": new}))
    code, out = check(*notes, forged)
    assert code == 1
    assert out["problems"][0].startswith("consistency proof file 1: not old, new and proof")

    other = "04" + "11" * 64  # not the log's key: neither note is taken as signed
    code, out = check(*notes, proof, key=other)
    assert code == 1
    assert [p.endswith("the log's signature does not verify") for p in out["problems"]] == [
        True,
        True,
    ]
