"""Record metadata: the DA/T 46 element sets, validation, 档号 and the retention schedule."""

from dangan.metadata.archival_code import (
    DAT13_2022,
    DAT22_2015,
    ArchivalCodeFormat,
    ArchivalCodeParts,
    ContinuityIssue,
    check_continuity,
    next_piece,
    scope_key,
    validate_parts,
)
from dangan.metadata.retention import (
    Classification,
    Reason,
    RetentionSchedule,
    Rule,
    Schedule,
    classify,
    default_schedule,
    load_schedule,
    parse_schedule,
)
from dangan.metadata.schema import (
    ElementDef,
    MetadataSchema,
    SchemaRegistry,
    Stage,
    default_registry,
    load_schema,
    ws_schema,
)
from dangan.metadata.validation import validate

__all__ = [
    "DAT13_2022",
    "DAT22_2015",
    "ArchivalCodeFormat",
    "ArchivalCodeParts",
    "Classification",
    "ContinuityIssue",
    "ElementDef",
    "MetadataSchema",
    "Reason",
    "RetentionSchedule",
    "Rule",
    "Schedule",
    "SchemaRegistry",
    "Stage",
    "check_continuity",
    "classify",
    "default_registry",
    "default_schedule",
    "load_schedule",
    "load_schema",
    "next_piece",
    "parse_schedule",
    "scope_key",
    "validate",
    "validate_parts",
    "ws_schema",
]
