"""The 电子签名 and 锁定签名 of an EEP: parsed (Base64 checked) and returned, not verified.

Whoever trusts a signer verifies them; reading a package only reports what it claims, and
a value that is not Base64 is a problem of the package like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dangan.core.errors import Problem
from dangan.interop.eep_base64 import b64_value


@dataclass(frozen=True)
class EepSignature:
    """One 电子签名 or 锁定签名 as found (not verified)."""

    kind: str  # "电子签名" or "锁定签名"
    signature_id: str | None  # 签名标识符 (电子签名) or 被锁定签名标识符 (锁定签名)
    rule: str | None  # 签名规则
    time: str | None  # 签名时间
    signer: str | None  # 签名人
    algorithm: str | None  # 签名算法标识
    value: bytes  # 签名结果, Base64-decoded
    certificates: tuple[bytes, ...] = ()  # 证书块/证书, DER as decoded
    certificate_refs: tuple[str, ...] = ()  # 证书块/证书引证


def signature_from(
    kind: str, children: list[tuple[str, Any]], number: int, problems: list[Problem]
) -> EepSignature:
    """The `number`-th signature of `kind` from its child elements (name, text or children)."""
    values: dict[str, str] = {}
    certs: list[bytes] = []
    refs: list[str] = []
    for child, value in children:
        if child == "证书块" and isinstance(value, list):
            for sub, sub_value in value:
                if sub == "证书" and isinstance(sub_value, str):
                    certs.append(b64_value(sub_value, f"{kind}[{number}].证书", problems))
                elif sub == "证书引证" and isinstance(sub_value, str):
                    refs.append(sub_value)
        elif isinstance(value, str):
            values[child] = value
    return EepSignature(
        kind=kind,
        signature_id=values.get("签名标识符") or values.get("被锁定签名标识符"),
        rule=values.get("签名规则"),
        time=values.get("签名时间"),
        signer=values.get("签名人"),
        algorithm=values.get("签名算法标识"),
        value=b64_value(values.get("签名结果", ""), f"{kind}[{number}].签名结果", problems),
        certificates=tuple(certs),
        certificate_refs=tuple(refs),
    )
