"""Metadata element sets as data (DA/T 46 and per-category variants).

An element set lives in a packaged TOML file so that a new 门类 is a new data file, not new
code. Producers may name elements by English key ("title") or Chinese name ("题名").
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal, cast, get_args

from dangan.core.errors import ConfigurationError, NotFoundError

Obligation = Literal["mandatory", "conditional", "optional"]
ElementType = Literal["string", "text", "date", "datetime", "year", "integer", "enum"]
Source = Literal["producer", "system"]
Stage = Literal["submission", "archive"]

_OBLIGATIONS: frozenset[str] = frozenset(get_args(Obligation))
_TYPES: frozenset[str] = frozenset(get_args(ElementType))
_SOURCES: frozenset[str] = frozenset(get_args(Source))
_ELEMENT_FIELDS = frozenset(
    {
        "key",
        "number",
        "zh",
        "en",
        "obligation",
        "repeatable",
        "type",
        "max_length",
        "minimum",
        "values",
        "labels",
        "aliases",
        "default",
        "source",
        "names",
        "drives_zh",
        "drives_en",
    }
)


@dataclass(frozen=True)
class ElementDef:
    """One metadata element and its DA/T 46 description attributes."""

    key: str
    zh: str
    en: str
    obligation: Obligation
    type: ElementType
    source: Source
    number: str | None = None
    repeatable: bool = False
    max_length: int | None = None
    minimum: int | None = None
    values: tuple[str, ...] = ()
    # Display label per stored value (保管期限 stores Y, shows 永久).
    labels: Mapping[str, str] = field(default_factory=dict)
    # Accepted spellings mapped to the stored value (命令(令) → 命令).
    aliases: Mapping[str, str] = field(default_factory=dict)
    default: object = None
    # Other names accepted for the element itself, besides `key` and `zh` (文号 → 文件编号).
    names: tuple[str, ...] = ()
    # What the element drives in Dangan (classification, access, 档号 …), for the reference
    # documentation (docs/elements.md); empty when it is description only.
    drives_zh: str = ""
    drives_en: str = ""

    @property
    def accepted_names(self) -> tuple[str, ...]:
        """Every name a producer may use for this element: key, Chinese name, other names."""
        return (self.key, self.zh, *self.names)

    @property
    def mandatory(self) -> bool:
        return self.obligation == "mandatory"

    def required_at(self, stage: Stage) -> bool:
        """Producers cannot supply system-derived elements, so those wait for archiving."""
        if not self.mandatory:
            return False
        return stage == "archive" or self.source == "producer"

    def canonical_value(self, raw: str) -> str | None:
        """The stored enum value for `raw`, or None when it is not allowed."""
        if raw in self.values:
            return raw
        return self.aliases.get(raw)

    def label(self, value: str) -> str:
        return self.labels.get(value, value)


@dataclass(frozen=True)
class MetadataSchema:
    """The element set of one 档案门类 (category), addressable by key or Chinese name."""

    category: str
    name_zh: str
    name_en: str
    elements: tuple[ElementDef, ...]
    _by_name: Mapping[str, ElementDef] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, ElementDef] = {}
        for el in self.elements:
            for name in el.accepted_names:
                if name in by_name:
                    raise ConfigurationError(
                        code="duplicate_element",
                        zh=f"元数据方案 {self.category} 中元素名“{name}”重复",
                        en=f"element name {name!r} appears twice in schema {self.category}",
                    )
                by_name[name] = el
        object.__setattr__(self, "_by_name", by_name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._by_name

    def __iter__(self) -> Iterator[ElementDef]:
        return iter(self.elements)

    def get(self, name: str) -> ElementDef | None:
        """Look up by English key, Chinese name or one of the element's other names."""
        return self._by_name.get(name)

    def __getitem__(self, name: str) -> ElementDef:
        el = self._by_name.get(name)
        if el is None:
            raise KeyError(name)
        return el

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(el.key for el in self.elements)

    def required(self, stage: Stage) -> tuple[ElementDef, ...]:
        return tuple(el for el in self.elements if el.required_at(stage))


def _bad(path: str, why_zh: str, why_en: str) -> ConfigurationError:
    return ConfigurationError(
        code="bad_schema", zh=f"元数据方案 {path} 无效：{why_zh}", en=f"bad schema {path}: {why_en}"
    )


def _element_from(raw: Mapping[str, object], where: str) -> ElementDef:
    unknown = set(raw) - _ELEMENT_FIELDS
    if unknown:
        raise _bad(where, f"未知属性 {sorted(unknown)}", f"unknown attributes {sorted(unknown)}")
    try:
        key = str(raw["key"])
        obligation = str(raw["obligation"])
        etype = str(raw["type"])
        source = str(raw["source"])
        zh, en = str(raw["zh"]), str(raw["en"])
    except KeyError as exc:
        raise _bad(where, f"缺少属性 {exc}", f"missing attribute {exc}") from None
    if obligation not in _OBLIGATIONS or etype not in _TYPES or source not in _SOURCES:
        raise _bad(
            where,
            f"元素 {key} 的约束性、类型或来源无效",
            f"element {key}: bad obligation, type or source",
        )
    values = tuple(str(v) for v in cast(list[object], raw.get("values", [])))
    labels = {str(k): str(v) for k, v in cast(dict[str, object], raw.get("labels", {})).items()}
    aliases = {str(k): str(v) for k, v in cast(dict[str, object], raw.get("aliases", {})).items()}
    if etype == "enum" and not values:
        raise _bad(where, f"枚举元素 {key} 没有值域", f"enum element {key} has no values")
    if any(v not in values for v in aliases.values()):
        raise _bad(where, f"元素 {key} 的别名指向未知值", f"element {key}: alias to unknown value")
    names = _string_list(raw.get("names", []), where, key, "names")
    drives = {k: raw.get(k, "") for k in ("drives_zh", "drives_en")}
    if not all(isinstance(v, str) for v in drives.values()):
        raise _bad(where, f"元素 {key} 的 drives 应为文本", f"element {key}: drives must be text")
    max_length = raw.get("max_length")
    minimum = raw.get("minimum")
    number = raw.get("number")
    return ElementDef(
        key=key,
        zh=zh,
        en=en,
        obligation=cast(Obligation, obligation),
        type=cast(ElementType, etype),
        source=cast(Source, source),
        number=None if number is None else str(number),
        repeatable=bool(raw.get("repeatable", False)),
        max_length=None if max_length is None else int(cast(int, max_length)),
        minimum=None if minimum is None else int(cast(int, minimum)),
        values=values,
        labels=labels,
        aliases=aliases,
        default=raw.get("default"),
        names=names,
        drives_zh=" ".join(str(drives["drives_zh"]).split()),
        drives_en=" ".join(str(drives["drives_en"]).split()),
    )


def _string_list(value: object, where: str, key: str, attribute: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _bad(
            where,
            f"元素 {key} 的 {attribute} 应为非空文本列表",
            f"element {key}: {attribute} must be a list of non-empty strings",
        )
    return tuple(str(v) for v in value)


def load_schema(source: Path | Traversable) -> MetadataSchema:
    """Parse one element-set TOML file."""
    where = str(source)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise _bad(where, f"无法读取：{exc}", f"cannot read: {exc}") from exc
    head = cast(dict[str, object], data.get("schema", {}))
    raw_elements = cast(list[dict[str, object]], data.get("elements", []))
    if "category" not in head or not raw_elements:
        raise _bad(where, "缺少 [schema].category 或元素", "missing [schema].category or elements")
    return MetadataSchema(
        category=str(head["category"]),
        name_zh=str(head.get("name_zh", "")),
        name_en=str(head.get("name_en", "")),
        elements=tuple(_element_from(el, where) for el in raw_elements),
    )


_PACKAGED: dict[str, str] = {"WS": "dat46_ws.toml"}


class SchemaRegistry:
    """Element sets by category code; loaded lazily and cached."""

    def __init__(self) -> None:
        data = resources.files("dangan.metadata") / "data"
        self._sources: dict[str, Path | Traversable] = {
            code: data / name for code, name in _PACKAGED.items()
        }
        self._loaded: dict[str, MetadataSchema] = {}

    def register(self, code: str, source: Path | Traversable) -> None:
        """Add (or replace) a category; the file is read on first use."""
        self._sources[code.upper()] = source
        self._loaded.pop(code.upper(), None)

    @classmethod
    def default(cls) -> SchemaRegistry:
        """A registry holding the packaged element sets (WS)."""
        return cls()

    def categories(self) -> tuple[str, ...]:
        return tuple(sorted(self._sources))

    def get(self, code: str) -> MetadataSchema:
        code = code.upper()
        if code in self._loaded:
            return self._loaded[code]
        source = self._sources.get(code)
        if source is None:
            raise NotFoundError(
                code="unknown_category",
                zh=f"没有档案门类 {code} 的元数据方案，已有：{'、'.join(self.categories())}",
                en=f"no metadata schema for category {code}; known: {', '.join(self.categories())}",
            )
        schema = load_schema(source)
        if schema.category.upper() != code:
            raise _bad(
                str(source),
                f"文件声明的门类为 {schema.category}，登记为 {code}",
                f"file declares category {schema.category} but was registered as {code}",
            )
        self._loaded[code] = schema
        return schema


_default_registry: SchemaRegistry | None = None


def default_registry() -> SchemaRegistry:
    global _default_registry  # noqa: PLW0603 - one lazily built, read-only cache per process
    if _default_registry is None:
        _default_registry = SchemaRegistry()
    return _default_registry


def ws_schema() -> MetadataSchema:
    """The DA/T 46 文书 element set."""
    return default_registry().get("WS")
