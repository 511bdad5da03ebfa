"""Which catalogue columns hold a metadata element's value, and whether each is wide enough.

The element set's `max_length` is the contract with producers: a value it accepts must fit
its column, or PostgreSQL refuses the row and the producer gets a 500 instead of a receipt.
`too_narrow` checks an element set against the columns; start-up runs it for every
configured category, so a category's own element set cannot allow more than the catalogue
holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, Integer, String
from sqlalchemy.types import NullType, TypeEngine

import dangan.arrangement.models  # noqa: F401 - the tables records' foreign keys point at
from dangan.access.models import RecordAccess
from dangan.core.errors import Problem
from dangan.metadata.schema import ElementDef, MetadataSchema
from dangan.records.models import Record, RecordFile

ISO_DATE = len("2024-03-05")


@dataclass(frozen=True)
class ElementColumn:
    """`column` holds element `key`; `joined` when it holds every value of a repeatable
    element joined into one text (`dangan.metadata.values.display_value`)."""

    key: str
    column: Column[object]
    joined: bool = False

    @property
    def where(self) -> str:
        return f"{self.column.table.name}.{self.column.name}"

    @property
    def type(self) -> TypeEngine[object]:
        """The column's type; a foreign key column's is its target's until the mapping is
        configured."""
        kind = self.column.type
        if isinstance(kind, NullType) and self.column.foreign_keys:
            kind = next(iter(self.column.foreign_keys)).column.type
        return kind


def _c(model: type, name: str) -> Column[object]:
    column: Column[object] = model.__table__.c[name]  # type: ignore[attr-defined]
    return column


ELEMENT_COLUMNS: tuple[ElementColumn, ...] = (
    ElementColumn("title", _c(Record, "title")),
    ElementColumn("document_number", _c(Record, "document_number")),
    ElementColumn("author", _c(Record, "author"), joined=True),
    ElementColumn("date", _c(Record, "doc_date")),
    ElementColumn("year", _c(Record, "year")),
    ElementColumn("archival_code", _c(Record, "archival_code")),
    ElementColumn("fonds_identifier", _c(Record, "fonds_code")),
    ElementColumn("category_code", _c(Record, "category_code")),
    ElementColumn("retention_period", _c(Record, "retention")),
    ElementColumn("organizational_unit", _c(Record, "org_code")),
    ElementColumn("agency_item_number", _c(Record, "piece")),
    ElementColumn("computer_file_name", _c(RecordFile, "name")),
    ElementColumn("security_classification", _c(RecordAccess, "security_classification")),
)


def longest_value(el: ElementDef, *, joined: bool = False) -> int | None:
    """The most characters a valid text value of `el` has; None when nothing bounds it (text
    without max_length, a repeatable element's values joined into one)."""
    if joined and el.repeatable:
        return None
    if el.type == "enum":
        return max(len(v) for v in el.values)
    if el.type == "date":
        return ISO_DATE
    if el.type == "datetime":
        return None
    return el.max_length


def _numeric(el: ElementDef) -> bool:
    return el.type in ("integer", "year")


def _fits(el: ElementDef, ec: ElementColumn) -> bool:
    kind = ec.type
    if _numeric(el):
        return isinstance(kind, Integer)
    if not isinstance(kind, String):
        return False
    needed = longest_value(el, joined=ec.joined)
    return kind.length is None or (needed is not None and needed <= kind.length)


def _needs(el: ElementDef, joined: bool) -> tuple[str, str]:
    if _numeric(el):
        return "整数列", "an integer column"
    n = longest_value(el, joined=joined)
    if n is None:
        return "不限长度的文本列", "a text column of unbounded width"
    return f"至少 {n} 字宽的文本列", f"a text column at least {n} characters wide"


def too_narrow(schema: MetadataSchema) -> list[Problem]:
    """One problem per element of `schema` whose valid values may not fit their column."""
    problems: list[Problem] = []
    for ec in ELEMENT_COLUMNS:
        el = schema.get(ec.key)
        if el is None or _fits(el, ec):
            continue
        zh, en = _needs(el, ec.joined)
        problems.append(
            Problem(
                el.key,
                "column_too_narrow",
                f"元数据方案 {schema.category} 的{el.zh}（{el.key}）需要{zh}，"
                f"数据库列 {ec.where} 是 {ec.type}",
                f"{el.key} in schema {schema.category} needs {en}; column {ec.where} is {ec.type}",
            )
        )
    return problems
