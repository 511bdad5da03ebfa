"""Base64 in an EEP: 编码数据 decoded chunk by chunk straight to disk, and small values whole.

A huge package never sits in memory: `Base64Sink` decodes whole 4-character groups as SAX
hands them over and counts the decoded bytes against the package's `ByteBudget` before
writing them. Decoding is strict (no characters outside the alphabet, nothing after the
padding), so a damaged payload is refused rather than silently shortened.
"""

from __future__ import annotations

import binascii
from typing import IO

from dangan.core.errors import InvalidInputError, Problem, invalid
from dangan.interop.limits import ByteBudget

_B64_DROP = str.maketrans("", "", " \t\r\n")


class Base64Sink:
    """Decodes Base64 text as it arrives and writes the bytes, within the limits."""

    def __init__(self, out: IO[bytes], field_name: str, budget: ByteBudget) -> None:
        self._out = out
        self._field = field_name
        self._budget = budget
        self._pending = ""
        self._padded = False
        self.written = 0

    def _invalid(self, why_zh: str, why_en: str) -> InvalidInputError:
        return invalid(
            self._field,
            "invalid_base64",
            f"编码数据不是有效的 Base64：{why_zh}",
            f"编码数据 is not valid Base64: {why_en}",
        )

    def feed(self, text: str) -> None:
        clean = text.translate(_B64_DROP)
        if not clean:
            return
        if self._padded:
            raise self._invalid("填充符 = 之后仍有数据", "data after the = padding")
        self._pending += clean
        cut = len(self._pending) // 4 * 4
        if cut:
            chunk, self._pending = self._pending[:cut], self._pending[cut:]
            self._decode(chunk)

    def _decode(self, chunk: str) -> None:
        try:
            data = binascii.a2b_base64(chunk.encode("ascii"), strict_mode=True)
        except UnicodeEncodeError:
            raise self._invalid("含非 ASCII 字符", "non-ASCII characters") from None
        except binascii.Error as exc:
            raise self._invalid(str(exc), str(exc)) from None
        self._padded = chunk.endswith("=")
        limits = self._budget.limits
        breach = self._budget.take(self.written, len(data))
        if breach == "file":
            raise invalid(
                self._field,
                "file_too_large",
                f"文件解码后超过 {limits.max_file_bytes} 字节",
                f"the decoded file exceeds {limits.max_file_bytes} bytes",
            )
        if breach == "total":
            raise invalid(
                self._field,
                "package_too_large",
                f"封装包解码后的文件合计超过 {limits.max_total_bytes} 字节",
                f"the package's decoded files exceed {limits.max_total_bytes} bytes in total",
            )
        self.written += len(data)
        self._out.write(data)

    def finish(self) -> None:
        if self._pending:
            raise self._invalid("长度不是 4 的倍数", "length is not a multiple of 4")


def b64_value(text: str, field_name: str, problems: list[Problem]) -> bytes:
    """A small Base64 value (a signature, a certificate) decoded whole; b"" if invalid."""
    clean = text.translate(_B64_DROP)
    try:
        return binascii.a2b_base64(clean.encode("ascii"), strict_mode=True)
    except (UnicodeEncodeError, binascii.Error):
        problems.append(
            Problem(field_name, "invalid_base64", "不是有效的 Base64", "is not valid Base64")
        )
        return b""
