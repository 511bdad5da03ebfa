"""Verify one record: every file on every replica against the catalogue, the signatures, and
the record's own ledger events (there, unaltered, naming it, proven under the log's key)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes

from dangan.core.errors import DanganError
from dangan.crypto import verify_signature
from dangan.db.engine import read_only
from dangan.policy.domain import READ_CONTENT
from dangan.records.domain import LedgerFinding, package_manifest
from dangan.records.ledger_check import RecordLinks, check_record_events, links_of
from dangan.records.lookup import open_record
from dangan.records.ports import RecordsDeps
from dangan.records.staging import logical_path
from dangan.usecase import Actor, UnitOfWork, use_case


@dataclass
class RecordVerification:
    record_id: str
    archival_code: str | None
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    ledger_positions: list[int] = field(default_factory=list)
    ledger_findings: list[LedgerFinding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "archival_code": self.archival_code,
            "ok": self.ok,
            "checked": self.checked,
            "problems": self.problems,
            "ledger_positions": self.ledger_positions,
            "ledger_findings": [f.as_dict() for f in self.ledger_findings],
        }


def _sm3(data: bytes) -> str:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize().hex()


@use_case()
def verify_record(deps: RecordsDeps, actor: Actor, ref: str) -> RecordVerification:
    """Every version's package signature, every file and the package description on every
    replica against the catalogue, and the record's ledger events. Reads only; a refusal is
    recorded."""
    with UnitOfWork(deps, actor) as uow:
        rec = open_record(uow, ref, "record.verified", READ_CONTENT)
        out = RecordVerification(rec.id, rec.archival_code)
        files = [(f.name, f.sm3, f.size) for f in rec.files]
        versions = [(v.version, v.metadata_json, v.signature_json) for v in rec.versions]
        links = links_of(rec)
    _check_signatures(out, versions)
    _check_replicas(deps, out, files, versions[-1][1])
    _check_ledger(deps, out, links)
    return out


def _check_ledger(deps: RecordsDeps, out: RecordVerification, links: RecordLinks) -> None:
    # a read-only snapshot: proofs and signature checks do not hold writers up on SQLite
    with deps.sessions(bind=read_only(deps.engine)) as session:
        found = check_record_events(session, deps.ledger, links)
    out.ledger_positions = sorted(found.positions)
    out.ledger_findings = found.findings
    for seq, what in sorted(found.positions.items()):
        if seq not in found.failed:
            out.checked.append(
                f"账本位置 {seq}（{what}）：在库、与叶摘要相符、包含证明经日志公钥验证 / "
                f"ledger position {seq} ({what}): present, hashes to its leaf, proven to a "
                "checkpoint signed with the log's key"
            )
    out.checked += found.notes
    out.problems += [str(f) for f in found.findings]


def _check_signatures(out: RecordVerification, versions: list[tuple[int, str, str]]) -> None:
    for version, metadata_json, signature_json in versions:
        sig = json.loads(signature_json)
        manifest = package_manifest(json.loads(metadata_json))
        good = verify_signature(
            sig["algorithm"],
            bytes.fromhex(sig["public_key"]),
            manifest,
            bytes.fromhex(sig["value"]),
        )
        (out.checked if good else out.problems).append(
            f"v{version} 系统签名{'有效' if good else '无效'} package signature "
            f"{'valid' if good else 'INVALID'} ({sig['algorithm']})"
        )


def _check_replicas(
    deps: RecordsDeps, out: RecordVerification, files: list[tuple[str, str, int]], head: str
) -> None:
    for root in deps.roots:
        for name, sm3, size in files:
            where = f"{root.store.name}:{name}"
            try:
                data = root.read_file(out.record_id, logical_path(name))
            except DanganError as exc:
                out.problems.append(f"{where}: {exc.zh} / {exc.en}")
                continue
            if len(data) != size or _sm3(data) != sm3:
                out.problems.append(f"{where}: SM3 与登记不符 SM3 differs from the catalogue")
            else:
                out.checked.append(f"{where}: SM3 {sm3[:16]}… OK")
        try:
            stored = root.read_file(out.record_id, "metadata.json")
        except DanganError as exc:
            out.problems.append(f"{root.store.name}:metadata.json: {exc.en}")
            continue
        if stored.decode() != head:
            out.problems.append(
                f"{root.store.name}:metadata.json 与目录不符 differs from the catalogue"
            )
