"""DA/T 70-2018 four-property checks (四性检测) that apply at receipt (归档环节).

Pure: the caller measures (digests, counts, formats, validation problems, replica writes)
and this module turns the measurements into a report of items. Item codes follow the GD-
(归档) numbering that implementations of the standard use; see docs/STANDARDS.md §5.2.
An item no measurement covers is reported as "na" with the reason, never as passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Result = Literal["pass", "fail", "warn", "na"]


@dataclass(frozen=True)
class CheckItem:
    code: str
    prop: str  # 真实性 | 完整性 | 可用性 | 安全性
    name_zh: str
    name_en: str
    result: Result
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "property": self.prop,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "result": self.result,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class CheckReportData:
    stage: str
    items: list[CheckItem]

    @property
    def passed(self) -> bool:
        return all(i.result != "fail" for i in self.items)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "passed": self.passed,
            "items": [i.as_dict() for i in self.items],
        }


@dataclass(frozen=True)
class ReceiptFacts:
    """Measurements taken while receiving one submission."""

    problem_codes: Sequence[str]  # codes of metadata validation problems (empty if none)
    declared_digests: int  # how many digests the producer declared
    digest_mismatches: Sequence[str]  # names of files whose declared digest did not match
    files_received: int
    files_stored_per_replica: Sequence[int]
    bytes_received: int
    bytes_stored_per_replica: Sequence[int]
    unreadable_files: Sequence[str]
    non_preferred_formats: Sequence[str]
    metadata_size_mismatches: Sequence[str] = field(default_factory=list)
    archival_code: str | None = None
    archival_code_valid: bool | None = None
    piece_continuous: bool | None = None
    replica_verify_failures: Sequence[str] = field(default_factory=list)


def _has(codes: Sequence[str], *wanted: str) -> bool:
    return any(c in wanted for c in codes)


def _judged(code: str, prop: str, zh: str, en: str, *, bad: bool, detail: str = "") -> CheckItem:
    return CheckItem(code, prop, zh, en, "fail" if bad else "pass", detail)


def _listed(code: str, prop: str, zh: str, en: str, names: Sequence[str]) -> CheckItem:
    """Fails when any name is listed; the names are the detail."""
    return _judged(code, prop, zh, en, bad=bool(names), detail=", ".join(names))


def _meta_item(code: str, zh: str, en: str, bad: bool, detail: str) -> CheckItem:
    return _judged(code, "真实性", zh, en, bad=bad, detail=detail if bad else "")


def _authenticity(f: ReceiptFacts) -> list[CheckItem]:
    pc = f.problem_codes
    if f.digest_mismatches:
        fixity: Result = "fail"
        fixity_detail = "摘要不符 digest mismatch: " + ", ".join(f.digest_mismatches)
    elif f.declared_digests:
        fixity, fixity_detail = "pass", f"{f.declared_digests} 个摘要相符 digests match"
    else:
        fixity, fixity_detail = "na", "未声明摘要、签名 no digest or signature declared"
    items = [
        CheckItem("GD-1-1", "真实性", "固化信息有效性", "embedded fixity", fixity, fixity_detail),
        _meta_item("GD-1-2", "元数据项数据长度", "metadata length", _has(pc, "too_long"), "超长"),
        _meta_item(
            "GD-1-3",
            "元数据项数据类型、格式",
            "metadata type and form",
            _has(pc, "bad_type", "bad_date", "bad_year"),
            "类型或格式不符",
        ),
        _meta_item("GD-1-4", "值域符合度", "value lists", _has(pc, "unknown_value"), "值不在值域"),
        _meta_item(
            "GD-1-6", "特殊字符", "special characters", _has(pc, "invalid_characters"), "含控制字符"
        ),
    ]
    if f.archival_code is None:
        items.append(
            CheckItem(
                "GD-1-7", "真实性", "档号规范性", "archival code form", "na", "待整理，未编号"
            )
        )
    else:
        items.append(
            _meta_item(
                "GD-1-7",
                "档号规范性",
                "archival code form",
                not f.archival_code_valid,
                f.archival_code,
            )
        )
    items.append(
        _listed(
            "GD-1-10",
            "真实性",
            "电子文件内容真实性",
            "file attributes match metadata",
            f.metadata_size_mismatches,
        )
    )
    return items


def _integrity(f: ReceiptFacts) -> list[CheckItem]:
    counts_ok = all(n == f.files_received for n in f.files_stored_per_replica)
    bytes_ok = all(n == f.bytes_received for n in f.bytes_stored_per_replica)
    items = [
        _judged(
            "GD-2-1",
            "完整性",
            "总件数相符性",
            "file count",
            bad=not counts_ok,
            detail=f"收到 {f.files_received}，各副本 {list(f.files_stored_per_replica)}",
        ),
        _judged(
            "GD-2-2",
            "完整性",
            "总字节数相符性",
            "byte count",
            bad=not bytes_ok,
            detail=f"收到 {f.bytes_received}，各副本 {list(f.bytes_stored_per_replica)}",
        ),
        _judged(
            "GD-2-4",
            "完整性",
            "必填著录项目",
            "mandatory items",
            bad=_has(f.problem_codes, "missing_mandatory", "empty_value"),
        ),
    ]
    if f.piece_continuous is None:
        items.append(CheckItem("GD-2-6", "完整性", "连续性", "continuity", "na", "待整理，未编号"))
    else:
        items.append(
            _judged(
                "GD-2-6", "完整性", "连续性", "piece numbers continuous", bad=not f.piece_continuous
            )
        )
    return items


def _usability(f: ReceiptFacts) -> list[CheckItem]:
    return [
        CheckItem(
            "GD-3-3",
            "可用性",
            "内容数据格式",
            "content format",
            "warn" if f.non_preferred_formats else "pass",
            ("非推荐长期保存格式 not a preferred format: " + ", ".join(f.non_preferred_formats))
            if f.non_preferred_formats
            else "",
        ),
        _listed("GD-3-4", "可用性", "内容数据可读性", "content readable", f.unreadable_files),
    ]


def _security(f: ReceiptFacts) -> list[CheckItem]:
    return [
        CheckItem(
            "GD-4-2",
            "安全性",
            "病毒感染检测",
            "virus scan",
            "na",
            "未配置杀毒引擎 no virus scanner configured",
        ),
        _listed(
            "GD-4-7",
            "安全性",
            "归档过程安全性",
            "replicas verified after write",
            f.replica_verify_failures,
        ),
    ]


def receipt_report(facts: ReceiptFacts) -> CheckReportData:
    items = _authenticity(facts) + _integrity(facts) + _usability(facts) + _security(facts)
    return CheckReportData(stage="receipt", items=items)
