"""Chinese word segmentation for the full-text index (jieba), shared by every backend.

Neither SQLite FTS5 nor PostgreSQL's 'simple' configuration segments Chinese, so text is
segmented here into space-separated tokens and the databases only split on spaces. Index and
query go through the same function, so a query's tokens are found in the indexed tokens.

Text is split into runs first: CJK runs go to jieba (search mode, which also emits the
sub-words of long words), runs of other letters/digits are kept whole, punctuation is dropped.
So 国办发〔2019〕6号 gives 国办 发 2019 6 号 whether it is typed exactly or as "国办发 2019 6号".
"""

from __future__ import annotations

import re
import threading
import unicodedata
from typing import Any

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef\U00030000-\U0003134f"
_RUNS = re.compile(rf"([{_CJK}]+)|([^\W_{_CJK}]+)")

_lock = threading.Lock()
# Process-wide state (mutable dict, so no `global`): the segmenter, built on first use.
_state: dict[str, Any] = {"tokenizer": None}


def _get() -> Any:
    if _state["tokenizer"] is not None:
        return _state["tokenizer"]
    with _lock:
        if _state["tokenizer"] is None:
            # rjieba binds jieba-rs, the Rust port of jieba: the same bundled dictionary and
            # algorithm (its cuts match Python jieba's), about 20 times faster, no cache file
            # and never a network call. Python jieba made indexing most of ingest time.
            import rjieba

            _state["tokenizer"] = rjieba.Jieba()
    return _state["tokenizer"]


def _normalise(text: str) -> str:
    # NFKC folds full-width digits and letters (２０２４, ＡＢＣ) into ASCII.
    return unicodedata.normalize("NFKC", text).lower()


def tokens(text: str) -> list[str]:
    """All tokens of `text` in order (with repeats)."""
    tok = _get()
    out: list[str] = []
    for m in _RUNS.finditer(_normalise(text)):
        cjk, other = m.group(1), m.group(2)
        if other:
            out.append(other)
        else:
            out.extend(w for w in tok.cut_for_search(cjk) if w.strip())
    return out


def tokens_for_index(text: str) -> str:
    """Space-joined tokens of `text`, ready for a whitespace-splitting full-text column."""
    return " ".join(tokens(text))


def tokens_for_query(query: str) -> list[str]:
    """The distinct tokens of a user query, in order; every one must match (AND)."""
    return list(dict.fromkeys(tokens(query)))


# --- snippets ----------------------------------------------------------------------------

HL_START = "【"
HL_END = "】"


def make_snippet(
    title: str,
    body: str,
    query_tokens: list[str],
    width: int = 80,
    *,
    start: str = HL_START,
    end: str = HL_END,
) -> str:
    """A plain-text excerpt of the body around the first match, matches wrapped in 【】.

    Built from the original text: a database snippet of segmented text would show the
    duplicated sub-words and spaces of the index form.
    """
    source = " ".join(body.split()) or " ".join(title.split())
    lowered = source.lower()
    if len(lowered) != len(source):  # rare case-folding length change: show the folded text
        source = lowered
    needles = sorted((t for t in query_tokens if t), key=len, reverse=True)
    positions = [p for t in needles if (p := lowered.find(t)) != -1]
    first = min(positions) if positions else 0
    lo = max(0, first - width // 4)
    hi = min(len(source), lo + width)
    out: list[str] = ["…"] if lo > 0 else []
    i = lo
    while i < hi:
        match = next((t for t in needles if lowered.startswith(t, i)), None)
        if match:
            out.append(start + source[i : i + len(match)] + end)
            i += len(match)
        else:
            out.append(source[i])
            i += 1
    if hi < len(source):
        out.append("…")
    # Adjacent matches (安全 + 生产) read better as one highlight.
    return "".join(out).replace(end + start, "")
