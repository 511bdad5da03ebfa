"""Invisible characters that make text display as something else, refused in what people read.

A bidirectional override or isolate reorders what follows it (a title can show words in an
order they are not stored in, a file name "txt.exe" as "exe.txt"); zero-width and other
invisible format characters hide, join or split text unseen, so two titles that look alike
differ and a search for what is shown misses. None has a place in a title, a name or a
keyword; U+2028/U+2029 (line and paragraph separators) only in multi-line text.
"""

from __future__ import annotations

import re
import unicodedata

from dangan.core.errors import Problem

_INVISIBLE = (
    "\u061c"  # ARABIC LETTER MARK
    "\u200b-\u200f"  # zero-width space, non-joiner, joiner; left-to-right, right-to-left mark
    "\u202a-\u202e"  # bidirectional embeddings and overrides
    "\u2060-\u2064"  # word joiner, invisible operators
    "\u2066-\u2069"  # bidirectional isolates
    "\u206a-\u206f"  # deprecated format controls (symmetric swapping, digit shapes)
    "\ufeff"  # zero-width no-break space (a byte order mark inside text)
    "\ufff9-\ufffb"  # interlinear annotation controls
    "\U000e0001\U000e0020-\U000e007f"  # tag characters: invisible ASCII
)
_LINE_BREAKS = "\u2028\u2029"
_SINGLE_LINE = re.compile(f"[{_INVISIBLE}{_LINE_BREAKS}]")
_MULTI_LINE = re.compile(f"[{_INVISIBLE}]")


def first_invisible(text: str, *, multiline: bool = False) -> tuple[int, str] | None:
    """(index, character) of the first refused character of `text`, or None."""
    found = (_MULTI_LINE if multiline else _SINGLE_LINE).search(text)
    return None if found is None else (found.start(), found.group())


def strip_invisible(text: str) -> str:
    """`text` without them: for names Dangan takes from elsewhere (an identity provider's
    claims) and cannot send back to be fixed."""
    return _SINGLE_LINE.sub("", text)


def code_point(ch: str) -> str:
    """A character as people look it up, e.g. `U+202E RIGHT-TO-LEFT OVERRIDE`."""
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X} {name}".rstrip()


def invisible_problem(
    field: str, text: str, zh_name: str, en_name: str, *, multiline: bool = False
) -> Problem | None:
    """The problem `invisible_character` for `field`, naming the character and where it is,
    when `text` holds one; `zh_name`/`en_name` say what the field is (题名（title）, title)."""
    found = first_invisible(text, multiline=multiline)
    if found is None:
        return None
    at, ch = found
    if ch in _LINE_BREAKS:
        why_zh, why_en = "单行文字不能分行", "single-line text cannot break lines"
    else:
        why_zh = "不可见的格式字符会使显示的文字与实际内容不符"
        why_en = "an invisible format character makes the text display as something else"
    return Problem(
        field,
        "invisible_character",
        f"{zh_name}第 {at + 1} 个字符为 {code_point(ch)}：{why_zh}",
        f"{en_name} has {code_point(ch)} at character {at + 1}: {why_en}",
    )
