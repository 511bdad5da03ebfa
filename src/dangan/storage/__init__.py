"""Where preservation packages' bytes live: blob stores, OCFL 1.1 objects, DA/T 48 XML."""

from dangan.storage.domain import (
    FileDigests,
    blob_not_found,
    check_key,
    object_root_path,
    safe_logical_path,
)
from dangan.storage.interfaces import BlobStore
from dangan.storage.local import LocalBlobStore
from dangan.storage.ocfl import IncompleteObject, OcflStorageRoot
from dangan.storage.package_xml import (
    FileInfo,
    ParsedPackage,
    parse_package,
    parse_package_xml,
    render_package_xml,
)

__all__ = [
    "BlobStore",
    "FileDigests",
    "FileInfo",
    "IncompleteObject",
    "LocalBlobStore",
    "OcflStorageRoot",
    "ParsedPackage",
    "blob_not_found",
    "check_key",
    "object_root_path",
    "parse_package",
    "parse_package_xml",
    "render_package_xml",
    "safe_logical_path",
]
