"""TEMPORARY shim until the access branch lands: use `dangan.bootstrap.open_container`."""

from dangan.bootstrap import open_container

__all__ = ["open_container"]
