"""Signed checkpoints: a tree head as a C2SP signed note, made, stored and read back.

The note text is origin, size and base64 root; the log signs it with its suite's key under
the key name = origin. Witnesses' cosignatures are added to the same note later. The other
columns (time, algorithm names) are for display and look-ups; the note is what is trusted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from dangan.core.clock import iso, utcnow
from dangan.crypto.interfaces import CryptoSuite
from dangan.ledger.models import LedgerCheckpoint
from dangan.ledger.note import (
    SIGNATURE_TYPES,
    CheckpointText,
    Note,
    parse_note,
    sign_note,
    verify_note,
)


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    time: str
    hash_alg: str
    sign_alg: str
    signature: bytes  # the log's, over the note text
    note: str  # the whole signed note, cosignatures included

    def text(self) -> str:
        return CheckpointText(self.origin, self.size, self.root).text()

    def parsed(self) -> Note:
        return parse_note(self.note)

    def as_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "size": self.size,
            "root": self.root.hex(),
            "time": self.time,
            "hash": self.hash_alg,
            "sign": self.sign_alg,
            "signature": self.signature.hex(),
            "note": self.note,
        }

    @classmethod
    def of(cls, row: LedgerCheckpoint) -> Checkpoint:
        return cls(
            origin=row.origin,
            size=row.size,
            root=bytes(row.root),
            time=row.time,
            hash_alg=row.hash_alg,
            sign_alg=row.sign_alg,
            signature=bytes(row.signature),
            note=row.note or "",
        )


def sign_checkpoint(suite: CryptoSuite, origin: str, size: int, root: bytes) -> Checkpoint:
    """A new checkpoint of (size, root), signed by the log's key."""
    text = CheckpointText(origin, size, root).text()
    note = sign_note(text, origin, SIGNATURE_TYPES[suite.sign_name], suite.public_key(), suite.sign)
    return Checkpoint(
        origin=origin,
        size=size,
        root=root,
        time=iso(utcnow()),
        hash_alg=suite.hash_name,
        sign_alg=suite.sign_name,
        signature=note.signatures[0].signature,
        note=note.render(),
    )


def signed_by(suite: CryptoSuite, cp: Checkpoint) -> bool:
    """Does the checkpoint's note carry a valid signature of this log's key over its text?"""
    try:
        note = cp.parsed()
    except Exception:
        return False
    return note.text == cp.text() and verify_note(
        note,
        cp.origin,
        SIGNATURE_TYPES.get(cp.sign_alg, b"?"),
        suite.public_key(),
        lambda key, data, sig: suite.verify(data, sig, public_key=key),
    )


def store(session: Session, cp: Checkpoint) -> None:
    session.execute(
        insert(LedgerCheckpoint),
        [
            {
                "size": cp.size,
                "origin": cp.origin,
                "root": cp.root,
                "time": cp.time,
                "hash_alg": cp.hash_alg,
                "sign_alg": cp.sign_alg,
                "signature": cp.signature,
                "note": cp.note,
            }
        ],
    )


def add_cosignatures(session: Session, cp: Checkpoint, note: Note) -> Checkpoint:
    """Keep the witnesses' cosignatures with the checkpoint (the note text must be the same)."""
    merged = cp.parsed().with_signatures(note.signatures).render()
    session.execute(
        update(LedgerCheckpoint).where(LedgerCheckpoint.size == cp.size).values(note=merged)
    )
    return replace(cp, note=merged)


def at_size(session: Session, size: int) -> Checkpoint | None:
    row = session.get(LedgerCheckpoint, size)
    return Checkpoint.of(row) if row is not None else None


def latest(session: Session) -> Checkpoint | None:
    row = session.scalars(
        select(LedgerCheckpoint).order_by(LedgerCheckpoint.size.desc()).limit(1)
    ).one_or_none()
    return Checkpoint.of(row) if row is not None else None


def covering(session: Session, seq: int) -> Checkpoint | None:
    """The smallest checkpoint whose tree includes entry `seq`."""
    row = session.scalars(
        select(LedgerCheckpoint)
        .where(LedgerCheckpoint.size > seq)
        .order_by(LedgerCheckpoint.size)
        .limit(1)
    ).one_or_none()
    return Checkpoint.of(row) if row is not None else None


def every(session: Session) -> list[Checkpoint]:
    rows = session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.size))
    return [Checkpoint.of(r) for r in rows]
