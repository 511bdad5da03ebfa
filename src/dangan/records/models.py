"""The catalogue: records, their files and versions, texts, checks and the outbox.

The database commit is the truth: a record is acknowledged only once its row, its archival
code and its ledger event are committed together. Content bytes live in the OCFL storage
roots; the catalogue keeps their digests.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dangan.db.base import Base

STATUS_ARCHIVED = "archived"
STATUS_PENDING = "pending_review"  # 待整理: stored, not yet numbered


class Record(Base):
    __tablename__ = "records"
    __table_args__ = (UniqueConstraint("source_system", "source_id", name="uq_records_source"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    fonds_code: Mapped[str] = mapped_column(ForeignKey("fonds.code"))
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    status: Mapped[str] = mapped_column(String(20), index=True)
    # Columns holding a metadata element are at least as wide as the element set allows
    # (`dangan.records.columns`); PostgreSQL refuses a longer value with an error.
    archival_code: Mapped[str | None] = mapped_column(String(100), unique=True)
    year: Mapped[int | None] = mapped_column(Integer)
    retention: Mapped[str | None] = mapped_column(String(8))
    org_code: Mapped[str | None] = mapped_column(String(50))
    piece: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(1000))
    document_number: Mapped[str | None] = mapped_column(String(100), index=True)
    # Every 责任者 joined by "；": the element is repeatable, so no width bounds the whole.
    author: Mapped[str | None] = mapped_column(Text)
    doc_date: Mapped[str | None] = mapped_column(String(10))
    source_system: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = mapped_column(String(200))
    submission_digest: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    classification_json: Mapped[str] = mapped_column(Text)
    ledger_seq: Mapped[int | None] = mapped_column(Integer)
    # The receipt as first given, returned unchanged to retries (updated when confirmed).
    receipt_json: Mapped[str | None] = mapped_column(Text)

    files: Mapped[list[RecordFile]] = relationship(
        back_populates="record", order_by="RecordFile.seq", cascade="all, delete-orphan"
    )
    versions: Mapped[list[RecordVersion]] = relationship(
        back_populates="record", order_by="RecordVersion.version", cascade="all, delete-orphan"
    )


class RecordFile(Base):
    __tablename__ = "record_files"
    __table_args__ = (UniqueConstraint("record_id", "name", name="uq_record_files_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(20))  # main | attachment
    name: Mapped[str] = mapped_column(String(255))  # logical path inside the package
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    sm3: Mapped[str] = mapped_column(String(64))
    mime: Mapped[str] = mapped_column(String(100))
    format_name: Mapped[str] = mapped_column(String(50))
    format_version: Mapped[str | None] = mapped_column(String(20))
    preferred_format: Mapped[bool] = mapped_column(Boolean)
    pages: Mapped[int | None] = mapped_column(Integer)

    record: Mapped[Record] = relationship(back_populates="files")


class RecordVersion(Base):
    """Each metadata state of a record, as written into OCFL version N; never overwritten."""

    __tablename__ = "record_versions"

    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    metadata_json: Mapped[str] = mapped_column(Text)  # canonical JSON of the package metadata
    signature_json: Mapped[str] = mapped_column(Text)  # system signature over the package
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(500))

    record: Mapped[Record] = relationship(back_populates="versions")


class RecordText(Base):
    """Extracted full text, kept for (re)indexing without re-reading content."""

    __tablename__ = "record_texts"

    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), primary_key=True)
    text: Mapped[str] = mapped_column(Text)


class CheckReport(Base):
    """A stored DA/T 70 four-property check report (归档/接收/长期保存 stages)."""

    __tablename__ = "check_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    passed: Mapped[bool] = mapped_column(Boolean)
    report_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OutboxItem(Base):
    """Follow-up work committed with its cause and done after the commit (package, index)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
