"""The reference page of an element set, rendered from the element set itself.

`docs/elements.md` is this module's output for the packaged 文书 (WS) set:

    python -m dangan.metadata.reference > docs/elements.md        # or: … KJ, … path/to/set.toml

Everything element-specific (names, obligation, values, aliases, and what the element drives
in Dangan) comes from the element-set TOML; this module only lays it out. Pure: no IO except
in `main`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from dangan.metadata.schema import ElementDef, MetadataSchema, default_registry, load_schema

REGENERATE = "python -m dangan.metadata.reference > docs/elements.md"

_OBLIGATION = {
    "mandatory": "必选 mandatory",
    "conditional": "条件 conditional",
    "optional": "可选 optional",
}
_TYPE = {
    "string": "文本 string",
    "text": "长文本 text",
    "date": "日期 date",
    "datetime": "时间 date-time",
    "year": "年 year",
    "integer": "整数 integer",
    "enum": "枚举 enum",
}
# What each type accepts (dangan.metadata.validation), shown once in the legend.
_TYPE_INPUT = {
    "string": (
        "单行文本，去除首尾空白；不得含控制字符、不可见的格式字符（双向控制符、零宽字符等，"
        "`invisible_character`）或分行符 U+2028/U+2029",
        "single-line text, stripped; no control characters, no invisible format characters "
        "(bidirectional controls, zero-width characters …: `invisible_character`), no line "
        "or paragraph separator U+2028/U+2029",
    ),
    "text": (
        "同 string，用于较长的文字，可换行（含 U+2028/U+2029）",
        "as string, for longer text; line breaks allowed (U+2028/U+2029 too)",
    ),
    "date": (
        "日 `YYYY-MM-DD`、`YYYYMMDD`、`YYYY年M月D日`，月 `YYYY-MM`、`YYYYMM`、`YYYY年M月`，"
        "年 `YYYY`、`YYYY年`；按精度存为 `YYYY-MM-DD`、`YYYY-MM` 或 `YYYY`",
        "a day `YYYY-MM-DD`, `YYYYMMDD`, `YYYY年M月D日`, a month `YYYY-MM`, `YYYYMM`, "
        "`YYYY年M月` or a year `YYYY`, `YYYY年`; stored at its precision as `YYYY-MM-DD`, "
        "`YYYY-MM` or `YYYY`",
    ),
    "datetime": ("ISO 8601 日期时间", "an ISO 8601 date-time"),
    "year": ("4 位公历年，数字或文本", "a 4-digit year, number or text"),
    "integer": ("整数，数字或文本", "an integer, number or text"),
    "enum": (
        "值域中的一个值或其别名，存为规范值",
        "one of the values or an alias of one, stored as the canonical value",
    ),
}
_SOURCE = {"producer": "移交方 producer", "system": "系统 system"}
_NO_DRIVES = (
    "仅著录：随档案保存在元数据与封装包中，不影响分类、档号或访问。",
    "Description only: kept in the record's metadata and package; drives no classification, "
    "archival code or access.",
)


def _yes_no(value: bool) -> str:
    return "是 yes" if value else "否 no"


def _code(text: object) -> str:
    return f"`{text}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _number(el: ElementDef) -> str:
    return el.number or "—"


def _anchor(el: ElementDef) -> str:
    return f"el-{el.key.replace('_', '-')}"


def required_at_submission(el: ElementDef) -> bool:
    """Must the producer give it? Mandatory producer elements without a default."""
    return el.required_at("submission") and el.default is None


def _heading(el: ElementDef) -> str:
    number = f"{el.number} " if el.number else ""
    extension = "" if el.number else "（Dangan 扩展 / extension）"
    return f'### {number}{el.zh} · {el.en}{extension} <a id="{_anchor(el)}"></a>'


def _limits(el: ElementDef) -> list[str]:
    out = []
    if el.max_length is not None:
        out.append(f"- 长度 / length: ≤ {el.max_length} 字符 characters")
    if el.minimum is not None:
        out.append(f"- 最小值 / minimum: {el.minimum}")
    return out


def _values(el: ElementDef) -> list[str]:
    if not el.values:
        return []
    shown = [f"`{v}`（{el.labels[v]}）" if v in el.labels else _code(v) for v in el.values]
    out = [f"- 值域 / values: {'、'.join(shown)}"]
    if el.aliases:
        pairs = [f"`{a}` → `{v}`" for a, v in el.aliases.items()]
        out.append(f"- 值的别名 / value aliases: {'；'.join(pairs)}")
    return out


def _element_section(el: ElementDef) -> list[str]:
    names = "、".join(_code(n) for n in el.accepted_names)
    lines = [
        _heading(el),
        "",
        f"- 接受的名称 / accepted names: {names}",
        f"- 约束性 / obligation: {_OBLIGATION[el.obligation]}"
        f" · 提交时必填 / required at submission: {_yes_no(required_at_submission(el))}",
        f"- 类型 / type: {_TYPE[el.type]} · 可重复 / repeatable: {_yes_no(el.repeatable)}"
        f" · 来源 / supplied by: {_SOURCE[el.source]}",
        *_limits(el),
    ]
    if el.default is not None:
        lines.append(f"- 默认值 / default: {_code(el.default)}")
    lines += _values(el)
    zh, en = (el.drives_zh, el.drives_en) if el.drives_zh else _NO_DRIVES
    lines += [f"- 作用 / drives: {zh}", f"  <br>{en}", ""]
    return lines


def _overview(schema: MetadataSchema) -> list[str]:
    lines = [
        "| 编号 No. | 元素 element | 键 key | 约束性 obligation | 类型 type | 可重复 repeatable "
        "| 来源 supplied by | 提交时必填 required |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for el in schema:
        lines.append(
            f"| {_number(el)} | [{el.zh}](#{_anchor(el)}) {_cell(el.en)} | {_code(el.key)} "
            f"| {_OBLIGATION[el.obligation]} | {_TYPE[el.type]} | {_yes_no(el.repeatable)} "
            f"| {_SOURCE[el.source]} | {_yes_no(required_at_submission(el))} |"
        )
    return lines


def _legend(schema: MetadataSchema) -> list[str]:
    required = "、".join(f"{el.zh} `{el.key}`" for el in schema if required_at_submission(el))
    other_names = [el for el in schema if el.names]
    lines = [
        "## 如何读 / How to read this",
        "",
        "- **名称 / names**: 每个元素可用英文键、中文名或列出的其他名称提交（"
        + "、".join(f"{el.zh} = `{el.key}` = " + " = ".join(el.names) for el in other_names)
        + "）；同一元素在一份元数据中只能出现一次，两个名称同时出现为 `duplicate_field`，"
        "未列出的名称为 `unknown_field`。Each element may be given by its key, its Chinese name "
        "or a listed other name; one element once per metadata object (two of its names → "
        "`duplicate_field`), and any other name is `unknown_field`.",
        "- **来源 / supplied by**: 移交方 producer — 业务系统提供 / the submitting system gives "
        "it; 系统 system — Dangan 在归档时生成或补全，个别元素接受移交方的值，见各元素的作用 / "
        "Dangan derives it at archiving; a few keep a producer's value, see each element.",
        f"- **提交时必填 / required at submission**: {required}；"
        "其余必选元素由 Dangan 填写或有默认值 / the other mandatory elements are Dangan's or have "
        "a default. 缺少时为 "
        "`missing_mandatory`，全部问题一次列出 / every problem is listed at once. "
        "例外：缺少日期（或日期不详）的文件不拒收，进入待整理 / except 日期 `date`: an undated "
        "document is not refused but queued for review.",
        "- **约束性 / obligation**: 条件 conditional — 仅在特定情况下必选（如有文号的文件才有"
        "文件编号）/ required only in some cases.",
        "- **可重复 / repeatable**: 可给一个值或一个列表；不可重复的元素给多个值为 "
        "`not_repeatable` / a value or a list; several values for a non-repeatable element is "
        "`not_repeatable`.",
        "- **值的别名 / value aliases**: 枚举元素接受别名，存为规范值 / an alias is stored as the "
        "canonical value. 空值视为未提供 / an empty value counts as absent.",
        "",
        "| 类型 type | 接受 / accepts |",
        "|---|---|",
    ]
    used = {el.type for el in schema}
    for etype, (zh, en) in _TYPE_INPUT.items():
        if etype in used:
            lines.append(f"| {_TYPE[etype]} | {zh} / {en} |")
    return lines


def render_elements_markdown(schema: MetadataSchema) -> str:
    """The reference page of `schema` as Markdown (zh first, en alongside)."""
    lines = [
        f"<!-- 生成文件，请勿手改 / generated, do not edit: {REGENERATE} -->",
        f"# 元数据元素 / Metadata elements: {schema.name_zh}（{schema.category}）",
        "",
        f"{schema.name_en}. 共 {len(schema.elements)} 个元素 / {len(schema.elements)} elements, "
        "in the order of the element set.",
        "",
        "本页由元数据方案生成：修改 `src/dangan/metadata/data/` 中的方案文件后运行 "
        f"`{REGENERATE}`。This page is generated from the element set: edit the TOML file under "
        "`src/dangan/metadata/data/` and regenerate.",
        "",
        *_legend(schema),
        "",
        "## 一览 / Overview",
        "",
        *_overview(schema),
        "",
        "## 元素 / Elements",
        "",
    ]
    for el in schema:
        lines += _element_section(el)
    return "\n".join(lines).rstrip("\n") + "\n"


def _schema_from(arg: str | None) -> MetadataSchema:
    if arg is None:
        return default_registry().get("WS")
    path = Path(arg)
    if path.suffix == ".toml" or path.exists():
        return load_schema(path)
    return default_registry().get(arg)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the reference page of a category (default WS) or of an element-set file."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) > 1 or (args and args[0] in {"-h", "--help"}):
        sys.stderr.write("usage: python -m dangan.metadata.reference [CATEGORY | FILE.toml]\n")
        return 2
    text = render_elements_markdown(_schema_from(args[0] if args else None))
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
