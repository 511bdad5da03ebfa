"""The HTTP API for business systems: `create_app(container)` builds it."""

from dangan.web.app import create_app

__all__ = ["create_app"]
