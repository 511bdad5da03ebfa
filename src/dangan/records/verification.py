"""Verify one record: every file on every replica against the catalogue, and the signatures."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes

from dangan.bootstrap import Container
from dangan.core.errors import DanganError
from dangan.crypto import verify_signature
from dangan.records.domain import package_manifest
from dangan.records.packaging import logical_path
from dangan.records.services import get_record


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


def verify_record(c: Container, ref: str) -> RecordVerification:
    with c.sessions() as session:
        rec = get_record(session, ref)
        out = RecordVerification(rec.id, rec.archival_code)
        files = [(f.name, f.sm3, f.size) for f in rec.files]
        versions = [(v.version, v.metadata_json, v.signature_json) for v in rec.versions]
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
    for root in c.roots:
        for name, sm3, size in files:
            where = f"{root.store.name}:{name}"
            try:
                data = root.read_file(rec.id, logical_path(name))
            except DanganError as exc:
                out.problems.append(f"{where}: {exc.zh} / {exc.en}")
                continue
            if len(data) != size or _sm3(data) != sm3:
                out.problems.append(f"{where}: SM3 与登记不符 SM3 differs from the catalogue")
            else:
                out.checked.append(f"{where}: SM3 {sm3[:16]}… OK")
        try:
            stored = root.read_file(rec.id, "metadata.json")
        except DanganError as exc:
            out.problems.append(f"{root.store.name}:metadata.json: {exc.en}")
            continue
        if stored.decode() != versions[-1][1]:
            out.problems.append(
                f"{root.store.name}:metadata.json 与目录不符 differs from the catalogue"
            )
    return out
