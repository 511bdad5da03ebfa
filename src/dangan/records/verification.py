"""Verify one record: every file on every replica against the catalogue, and the signatures."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes

from dangan.core.errors import DanganError
from dangan.crypto import verify_signature
from dangan.policy.domain import READ_CONTENT
from dangan.records.domain import package_manifest
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
        }


def _sm3(data: bytes) -> str:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize().hex()


@use_case()
def verify_record(deps: RecordsDeps, actor: Actor, ref: str) -> RecordVerification:
    """Every version's package signature, and every file and the package description on every
    replica, against the catalogue. Reads only; a refusal is recorded."""
    with UnitOfWork(deps, actor) as uow:
        rec = open_record(uow, ref, "record.verified", READ_CONTENT)
        out = RecordVerification(rec.id, rec.archival_code)
        files = [(f.name, f.sm3, f.size) for f in rec.files]
        versions = [(v.version, v.metadata_json, v.signature_json) for v in rec.versions]
    _check_signatures(out, versions)
    _check_replicas(deps, out, files, versions[-1][1])
    return out


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
