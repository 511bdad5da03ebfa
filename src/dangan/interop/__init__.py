"""Read packages from other systems (DA/T 48 EEP, zipped BagIt) into `Submission`s, safely."""

from dangan.interop.bagit_zip import read_bagit_zip
from dangan.interop.eep import EepPackage, EepSignature, read_eep, read_eep_package
from dangan.interop.limits import DEFAULT_LIMITS, PackageLimits

__all__ = [
    "DEFAULT_LIMITS",
    "EepPackage",
    "EepSignature",
    "PackageLimits",
    "read_bagit_zip",
    "read_eep",
    "read_eep_package",
]
