"""The arrangement scheme in the catalogue: fonds (全宗), categories (门类) and the piece
counter of each numbering scope."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dangan.db.base import Base


class Fonds(Base):
    __tablename__ = "fonds"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Category(Base):
    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


class PieceCounter(Base):
    """Last piece number issued within one numbering scope (DA/T 22: the lowest class)."""

    __tablename__ = "piece_counters"

    fonds: Mapped[str] = mapped_column(String(8), primary_key=True)
    category: Mapped[str] = mapped_column(String(2), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    retention: Mapped[str] = mapped_column(String(8), primary_key=True)
    org: Mapped[str] = mapped_column(String(20), primary_key=True)  # '' when not by 机构
    last_piece: Mapped[int] = mapped_column(Integer)
