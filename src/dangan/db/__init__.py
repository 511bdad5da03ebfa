"""Database machinery shared by every feature: declarative base, engines, sessions."""
