"""Content handling: format identification, text extraction and sample documents."""

from dangan.content.extract import ExtractResult, extract_text
from dangan.content.formats import FormatInfo, format_information, identify

__all__ = ["ExtractResult", "FormatInfo", "extract_text", "format_information", "identify"]
