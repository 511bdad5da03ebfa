"""What an undated record means for its classification: it is never numbered without a
year, so it always waits for an archivist, who sees why and what the schedule suggests."""

from __future__ import annotations

from dangan.metadata.retention import Classification, Reason

UNDATED = Reason(
    "undated",
    "文件无日期（或日期不详），无法确定年度：请档案员核定年度后确认",
    "the document is undated, so its year cannot be decided: an archivist gives the year "
    "when confirming",
)


def undated(result: Classification) -> Classification:
    """`result` for an undated record: never numbered without a year, so always queued.

    The schedule's view is kept in the reasons (a retention it would give is named), so the
    archivist sees both why the record waits and what the rules suggest."""
    reasons = list(result.reasons)
    if result.retention is not None:
        reasons.insert(
            0,
            Reason(
                "suggested_retention",
                f"保管期限表建议 {result.retention}",
                f"the schedule suggests {result.retention}",
            ),
        )
    return Classification(None, None, result.rule_id, result.confidence, (UNDATED, *reasons))
