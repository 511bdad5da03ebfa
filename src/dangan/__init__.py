"""Dangan (档案): electronic records and archives management."""

__version__ = "0.1.0"
