"""Retention schedule (保管期限表): rules that set 保管期限 and 机构（问题）代码.

A schedule is data (TOML). `classify` never guesses: when no rule matches, when the
highest-priority matching rules disagree, or when the winning rule's confidence is below the
schedule's threshold, the record is left unclassified for a person (待整理 review queue).
A valid producer-supplied retention_period / organizational_unit is kept as given.

Rule conditions (all given conditions must hold):
  document_type  = ["决定", ...]   文种 in list
  title_any      = ["...", ...]    title contains at least one
  title_all      = ["...", ...]    title contains every one
  title_none     = ["...", ...]    title contains none (exclusions)
  author_contains = ["...", ...]   some 责任者 contains one of these
  department     = "办公室"        承办部门 equals
  document_number = "regex"        文号 matches (re.search)
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import cast

from dangan.core.errors import ConfigurationError

_RETENTION = re.compile(r"Y|D[1-9]\d*")
_RETENTION_ALIASES = {"永久": "Y", "定期30年": "D30", "定期10年": "D10"}
_ORG = re.compile(r"[A-Za-z0-9\u4e00-\u9fff]{1,20}")
_CONDITIONS = frozenset(
    {
        "document_type",
        "title_any",
        "title_all",
        "title_none",
        "author_contains",
        "department",
        "document_number",
    }
)


@dataclass(frozen=True)
class Reason:
    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class Conditions:
    document_type: frozenset[str] | None = None
    title_any: tuple[str, ...] = ()
    title_all: tuple[str, ...] = ()
    title_none: tuple[str, ...] = ()
    author_contains: tuple[str, ...] = ()
    department: str | None = None
    document_number: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    conditions: Conditions
    retention: str
    org: str | None = None
    priority: int = 50
    confidence: float = 0.9


@dataclass(frozen=True)
class Schedule:
    id: str
    name: str
    rules: tuple[Rule, ...]
    # 内设机构 name → 机构（问题）代码, e.g. 办公室 → BGS.
    departments: Mapping[str, str] = field(default_factory=dict)
    threshold: float = 0.5
    # Org code used when nothing else decides it (e.g. 收文 registered by 办公室); None = leave
    # the org open.
    fallback_org: str | None = None
    retention_codes: frozenset[str] = frozenset({"Y", "D30", "D10"})


@dataclass(frozen=True)
class Classification:
    """Either classified (retention set) or unclassified with reasons for the reviewer."""

    retention: str | None
    org: str | None
    rule_id: str | None
    confidence: float
    reasons: tuple[Reason, ...]

    @property
    def classified(self) -> bool:
        return self.retention is not None

    def as_dict(self) -> dict[str, object]:
        return {
            "classified": self.classified,
            "retention": self.retention,
            "org": self.org,
            "rule_id": self.rule_id,
            "confidence": self.confidence,
            "reasons": [{"code": r.code, "zh": r.zh, "en": r.en} for r in self.reasons],
        }


# The name the rest of the code base uses for a loaded schedule.
RetentionSchedule = Schedule


def _bad(where: str, zh: str, en: str) -> ConfigurationError:
    return ConfigurationError(
        code="bad_retention_schedule",
        zh=f"保管期限表 {where} 无效：{zh}",
        en=f"bad schedule {where}: {en}",
    )


def _strings(value: object, where: str, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(cast(list[str], value))
    raise _bad(where, f"{key} 应为字符串列表", f"{key} must be a list of strings")


def _conditions(raw: Mapping[str, object], where: str) -> Conditions:
    unknown = set(raw) - _CONDITIONS
    if unknown:
        raise _bad(where, f"未知条件 {sorted(unknown)}", f"unknown conditions {sorted(unknown)}")
    number = raw.get("document_number")
    try:
        pattern = re.compile(str(number)) if number is not None else None
    except re.error as exc:
        raise _bad(where, f"文号正则无效：{exc}", f"bad document_number regex: {exc}") from exc
    types = raw.get("document_type")
    dept = raw.get("department")
    return Conditions(
        document_type=None if types is None else frozenset(_strings(types, where, "document_type")),
        title_any=_strings(raw.get("title_any", []), where, "title_any"),
        title_all=_strings(raw.get("title_all", []), where, "title_all"),
        title_none=_strings(raw.get("title_none", []), where, "title_none"),
        author_contains=_strings(raw.get("author_contains", []), where, "author_contains"),
        department=None if dept is None else str(dept),
        document_number=pattern,
    )


def _rule(raw: Mapping[str, object], codes: frozenset[str], where: str) -> Rule:
    rule_id = str(raw.get("id", ""))
    here = f"{where} 规则 {rule_id or '?'}"
    when = cast(Mapping[str, object], raw.get("when", {}))
    then = cast(Mapping[str, object], raw.get("then", {}))
    if not rule_id or not when:
        raise _bad(here, "规则需要 id 和 [when] 条件", "a rule needs an id and [when] conditions")
    retention = str(then.get("retention", ""))
    if retention not in codes:
        raise _bad(
            here,
            f"保管期限 {retention!r} 不在 {sorted(codes)} 中",
            f"retention {retention!r} not in {sorted(codes)}",
        )
    org = then.get("org")
    confidence = float(cast(float, raw.get("confidence", 0.9)))
    if not 0.0 <= confidence <= 1.0:
        raise _bad(here, "置信度应在 0 到 1 之间", "confidence must be within 0..1")
    return Rule(
        id=rule_id,
        description=str(raw.get("description", "")),
        conditions=_conditions(when, here),
        retention=retention,
        org=None if org is None else str(org),
        priority=int(cast(int, raw.get("priority", 50))),
        confidence=confidence,
    )


def parse_schedule(text: str, where: str = "<string>") -> Schedule:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _bad(where, f"TOML 语法错误：{exc}", f"TOML error: {exc}") from exc
    head = cast(Mapping[str, object], data.get("schedule", {}))
    codes = frozenset(
        _strings(head.get("retention_codes", ["Y", "D30", "D10"]), where, "retention_codes")
    )
    if not all(_RETENTION.fullmatch(c) for c in codes):
        raise _bad(where, "保管期限代码应为 Y 或 D 加年数", "retention codes must be Y or D<years>")
    rules = tuple(
        _rule(r, codes, where) for r in cast(list[Mapping[str, object]], data.get("rules", []))
    )
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise _bad(where, "规则 id 重复", "duplicate rule ids")
    departments = {
        str(k): str(v) for k, v in cast(dict[str, object], data.get("departments", {})).items()
    }
    fallback = head.get("fallback_org")
    return Schedule(
        id=str(head.get("id", "")),
        name=str(head.get("name", "")),
        rules=rules,
        departments=departments,
        threshold=float(cast(float, head.get("threshold", 0.5))),
        fallback_org=None if fallback is None else str(fallback),
        retention_codes=codes,
    )


def load_schedule(source: Path | Traversable) -> Schedule:
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise _bad(str(source), f"无法读取：{exc}", f"cannot read: {exc}") from exc
    return parse_schedule(text, str(source))


def default_schedule() -> Schedule:
    """The packaged 文书档案保管期限表 for a provincial department."""
    return load_schedule(resources.files("dangan.metadata") / "data" / "retention_default.toml")


# -- classification ---------------------------------------------------------------------------


def _text(metadata: Mapping[str, object], *names: str) -> str:
    for name in names:
        value = metadata.get(name)
        if isinstance(value, str):
            return value.strip()
        if isinstance(value, list | tuple):
            return "；".join(str(v) for v in value if isinstance(v, str))
    return ""


def _authors(metadata: Mapping[str, object]) -> list[str]:
    value = metadata.get("author", metadata.get("责任者"))
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


def _matches(c: Conditions, metadata: Mapping[str, object]) -> bool:
    title = _text(metadata, "title", "题名")
    doc_type = _text(metadata, "document_type", "文种")
    authors = _authors(metadata)
    number = _text(metadata, "document_number", "文件编号")
    return (
        (c.document_type is None or doc_type in c.document_type)
        and (not c.title_any or any(w in title for w in c.title_any))
        and all(w in title for w in c.title_all)
        and not any(w in title for w in c.title_none)
        and (not c.author_contains or any(w in a for a in authors for w in c.author_contains))
        and (c.department is None or _text(metadata, "department", "承办部门") == c.department)
        and (c.document_number is None or c.document_number.search(number) is not None)
    )


def _producer_retention(schedule: Schedule, metadata: Mapping[str, object]) -> str | None:
    raw = _text(metadata, "retention_period", "保管期限")
    code = _RETENTION_ALIASES.get(raw, raw)
    return code if code in schedule.retention_codes else None


def _org(
    schedule: Schedule, metadata: Mapping[str, object], rule: Rule | None
) -> tuple[str | None, Reason]:
    given = _text(metadata, "organizational_unit", "机构或问题")
    if given and _ORG.fullmatch(given):
        return given, Reason("org_supplied", "机构（问题）由移交方提供", "org supplied by producer")
    if rule is not None and rule.org is not None:
        return rule.org, Reason(
            "org_from_rule", f"机构（问题）由规则 {rule.id} 确定", f"org set by rule {rule.id}"
        )
    dept = _text(metadata, "department", "承办部门")
    if dept in schedule.departments:
        code = schedule.departments[dept]
        return code, Reason(
            "org_from_department",
            f"承办部门“{dept}”对应 {code}",
            f"department {dept!r} maps to {code}",
        )
    # 责任者 ending with an internal department name (e.g. XX厅办公室) names that department.
    for author in _authors(metadata):
        for name, code in schedule.departments.items():
            if author.endswith(name):
                return code, Reason(
                    "org_from_author",
                    f"责任者“{author}”对应 {code}",
                    f"author {author!r} maps to {code}",
                )
    if schedule.fallback_org is not None:
        code = schedule.fallback_org
        return code, Reason(
            "org_fallback",
            f"未能确定机构，按默认归入 {code}",
            f"org not determined; default {code}",
        )
    return None, Reason("org_undetermined", "未能确定机构（问题）", "org not determined")


def matching_rules(schedule: Schedule, metadata: Mapping[str, object]) -> list[Rule]:
    """Rules whose conditions hold, highest priority first."""
    hits = [r for r in schedule.rules if _matches(r.conditions, metadata)]
    return sorted(hits, key=lambda r: (-r.priority, -r.confidence, r.id))


def _unclassified(
    reason: Reason, rule_id: str | None = None, confidence: float = 0.0
) -> Classification:
    return Classification(None, None, rule_id, confidence, (reason,))


def classify(schedule: Schedule, metadata: Mapping[str, object]) -> Classification:
    """Decide 保管期限 and 机构（问题）for one record's (normalised) metadata."""
    supplied = _producer_retention(schedule, metadata)
    if supplied is not None:
        org, org_reason = _org(schedule, metadata, None)
        return Classification(
            supplied,
            org,
            None,
            1.0,
            (
                Reason(
                    "retention_supplied", "保管期限由移交方提供", "retention supplied by producer"
                ),
                org_reason,
            ),
        )

    hits = matching_rules(schedule, metadata)
    if not hits:
        return _unclassified(
            Reason("no_rule_matched", "保管期限表中没有适用的条款", "no rule matched")
        )
    top = hits[0]
    peers = [r for r in hits if r.priority == top.priority]
    verdicts = sorted({r.retention for r in peers})
    if len(verdicts) > 1:
        said = "; ".join(f"{r.id} says {r.retention}" for r in peers)
        said_zh = "；".join(f"{r.id} 定为 {r.retention}" for r in peers)
        return _unclassified(
            Reason("rules_disagree", f"条款意见不一致：{said_zh}", f"rules disagree: {said}")
        )
    if top.confidence < schedule.threshold:
        return _unclassified(
            Reason(
                "low_confidence",
                f"条款 {top.id} 置信度 {top.confidence:.2f} 低于阈值 {schedule.threshold:.2f}",
                f"rule {top.id} confidence {top.confidence:.2f} is below "
                f"threshold {schedule.threshold:.2f}",
            ),
            top.id,
            top.confidence,
        )
    org_rules = [r for r in peers if r.org is not None]
    org, org_reason = _org(schedule, metadata, org_rules[0] if org_rules else None)
    reasons = [
        Reason("rule_matched", f"适用条款 {top.id}：{top.description}", f"rule {top.id} matched")
    ]
    overruled = [r for r in hits if r.priority < top.priority and r.retention != top.retention]
    if overruled:
        ids = ", ".join(r.id for r in overruled)
        reasons.append(Reason("overrides", f"优先于条款 {ids}", f"takes precedence over {ids}"))
    reasons.append(org_reason)
    return Classification(top.retention, org, top.id, top.confidence, tuple(reasons))


def classify_many(
    schedule: Schedule, records: Iterable[Mapping[str, object]]
) -> list[Classification]:
    return [classify(schedule, m) for m in records]
