"""JSON from outside is refused before parsing when it nests too deeply.

Python's json parser recurses once per level: a few thousand `[` raise RecursionError (a 500,
or a dropped connection), and a few hundred parse but break the code that walks the result.
Nothing Dangan takes needs more than a handful of levels (an envelope's metadata holds lists
of text), so a cheap scan of brackets outside strings refuses anything deeper than
MAX_JSON_DEPTH first. The scan reads bytes as they arrive, so an HTTP body need not be held.
"""

from __future__ import annotations

import codecs
import json
import re

from dangan.core.errors import MalformedInputError, Problem

MAX_JSON_DEPTH = 64

_STRUCTURE = re.compile(rb'["\[\]{}]')
# The rest of a string up to its closing quote, escapes included; a backslash may be the
# chunk's last byte, its escaped byte then comes in the next one.
_IN_STRING = re.compile(rb'(?:[^"\\]++|\\.)*+', re.DOTALL)
_OPEN, _QUOTE, _BACKSLASH = b"[{", ord('"'), ord("\\")


class DepthScanner:
    """Feed a JSON text's bytes in any chunks; `feed` says when nesting passed the limit."""

    def __init__(self, limit: int = MAX_JSON_DEPTH) -> None:
        self.limit = limit
        self.depth = 0
        self._in_string = False
        self._escaped = False
        self._head = b""  # the first bytes, until the encoding is known
        self._decoder: codecs.IncrementalDecoder | None = None
        self._known = False

    def feed(self, data: bytes, *, final: bool = False) -> bool:
        """True once the text nests deeper than the limit (and for every call after);
        `final` with the last bytes."""
        if self.depth > self.limit:
            return True
        if not self._known:
            self._head += data
            if len(self._head) < 4 and not final:  # json.detect_encoding looks at four
                return False
            data, self._head, self._known = self._head, b"", True
            encoding = json.detect_encoding(data)
            if encoding.startswith(("utf-16", "utf-32")):
                # json.loads takes these too; their bytes are scanned as UTF-8.
                self._decoder = codecs.getincrementaldecoder(encoding)("replace")
        if self._decoder is not None:
            data = self._decoder.decode(data).encode("utf-8", "replace")
        return self._scan(data)

    def _scan(self, data: bytes) -> bool:
        i, end = 0, len(data)
        while i < end:
            if self._escaped:
                self._escaped, i = False, i + 1
            elif self._in_string:
                rest = _IN_STRING.match(data, i)  # always matches, maybe nothing
                i = rest.end() if rest else i
                if i < end:
                    self._escaped = data[i] == _BACKSLASH
                    self._in_string = self._escaped
                    i += 1
            else:
                found = _STRUCTURE.search(data, i)
                if found is None:
                    return False
                i = found.end()
                byte = data[found.start()]
                if byte == _QUOTE:
                    self._in_string = True
                elif byte in _OPEN:
                    self.depth += 1
                    if self.depth > self.limit:
                        return True
                else:  # a stray closer is the parser's error, not a way to lower the count
                    self.depth = max(self.depth - 1, 0)
        return False


def nests_too_deep(data: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text `data` nests deeper than `limit` (checked before parsing it)."""
    return DepthScanner(limit).feed(data, final=True)


def json_too_deep(field: str, limit: int = MAX_JSON_DEPTH) -> MalformedInputError:
    """The error for JSON in `field` ("body", "metadata") nested deeper than `limit`."""
    zh = f"{field}：JSON 嵌套超过 {limit} 层，未予读取"
    en = f"{field}: the JSON nests deeper than {limit} levels and was not read"
    return MalformedInputError(
        code="json_too_deep", zh=zh, en=en, problems=[Problem(field, "json_too_deep", zh, en)]
    )
