"""Witness cosignatures for the log's checkpoints: the client of c2sp.org/tlog-witness.

After signing a checkpoint note, the log asks every configured witness at once
(`POST {url}/add-checkpoint`: `old N`, the consistency proof from N, an empty line, the
note). Each witness remembers the last size it cosigned; a 409 answers that size, and the
request is made once more from it. Every cosignature returned is checked against the
configured public key (others are ignored) and the valid ones are added to the note.

A witness that cannot be reached, refuses or answers nonsense is not fatal by itself: the
checkpoint needs `witness_quorum` of them, else `UpstreamError("witness_quorum_not_met")`
naming what each failing witness did. A witness that has cosigned a *larger* tree of this log
than the one offered (`witness_ahead`) means the log lost entries it once published.

The proof function is called in the caller's thread only (it may read the caller's
database session); the HTTP requests run in a small pool, one keep-alive client shared.
Calls to `cosign` are serialised: a witness must see a log's checkpoints in order.
"""

from __future__ import annotations

import base64
import logging
import threading
import weakref
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from dangan.core.errors import DanganError, Problem, UpstreamError
from dangan.crypto.intl import ed25519_verify
from dangan.ledger.note import (
    COSIGNATURE_V1,
    Note,
    NoteSignature,
    check_witnessed,
    key_id,
    parse_checkpoint,
    parse_note,
    verify_cosignature,
    witnessed_by,
)
from dangan.settings import LedgerSettings

log = logging.getLogger("dangan.ledger")

ProofFn = Callable[[int, int], list[bytes]]  # (old size, new size) -> consistency proof
OldSizeFn = Callable[[str], int]  # witness name -> the size it last cosigned, as we know it
SIZE_TYPE = "text/x.tlog.size"


@dataclass
class _Peer:
    name: str
    url: str
    public_key: bytes
    size: int = 0  # the latest size it cosigned, as far as this process knows


@dataclass(frozen=True)
class _Answer:
    status: int
    body: str
    size: int | None = None  # the witness's size, from a 409 `text/x.tlog.size` answer


def _size_of(response: httpx.Response) -> int | None:
    kind = response.headers.get("content-type", "").split(";")[0].strip()
    text = response.text
    if response.status_code != 409 or kind != SIZE_TYPE or not text.endswith("\n"):
        return None
    number = text[:-1]
    return int(number) if number.isdigit() else None


def request_body(old: int, proof: list[bytes], note: Note) -> bytes:
    lines = "".join(base64.b64encode(h).decode("ascii") + "\n" for h in proof)
    return f"old {old}\n{lines}\n{note.render()}".encode()


def _trouble(peer: _Peer, code: str, en: str) -> Problem:
    return Problem(f"witness:{peer.name}", code, f"见证方 {peer.name}：{en}", en)


def _shut(pool: ThreadPoolExecutor, http: httpx.Client) -> None:
    pool.shutdown(wait=False)  # idle: `cosign` waits for all it submits (and GC may run here)
    http.close()


class Witnesses:
    """The witnesses of `LedgerSettings.witnesses`, and the quorum a checkpoint needs."""

    def __init__(
        self, settings: LedgerSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.quorum = settings.witness_quorum
        self._peers = [
            _Peer(w.name, w.url.rstrip("/"), bytes.fromhex(w.public_key))
            for w in settings.witnesses
        ]
        self._http = httpx.Client(timeout=settings.witness_timeout, transport=transport)
        workers = max(1, len(self._peers))
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="witness")
        self._lock = threading.Lock()
        # closed by close(), or when this object is collected (an owner that never calls it)
        self._closer = weakref.finalize(self, _shut, self._pool, self._http)

    @property
    def keys(self) -> dict[str, bytes]:
        """Witness name → Ed25519 public key, as configured."""
        return {p.name: p.public_key for p in self._peers}

    def sizes(self) -> dict[str, int]:
        """The size each witness last cosigned, as far as this process knows (0: unknown)."""
        return {p.name: p.size for p in self._peers}

    def close(self) -> None:
        self._closer()

    def __enter__(self) -> Witnesses:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def quorum_met(self, note: Note, k: int | None = None) -> bool:
        """Whether at least `k` (default `witness_quorum`) configured witnesses cosigned."""
        need = self.quorum if k is None else k
        return len(witnessed_by(note, self.keys, ed25519_verify)) >= need

    def problems(self, note: Note, k: int | None = None) -> list[str]:
        """`check_witnessed` with the configured witnesses and quorum."""
        return check_witnessed(note, self.keys, self.quorum if k is None else k, ed25519_verify)

    def cosign(self, note: Note, old_size_for: OldSizeFn | None, proof: ProofFn) -> Note:
        """`note` with the valid cosignatures of every witness that gave one.

        `old_size_for(name)` is the size that witness last cosigned as the log recorded it;
        None: what this object saw (0 after a restart — the witness's 409 corrects it).
        `proof(old, new)` is the log's RFC 6962 consistency proof, called with 0 < old < new.
        Raises `UpstreamError("witness_quorum_not_met")` if fewer than the quorum cosign.
        """
        size = parse_checkpoint(note.text).size
        with self._lock:
            olds = {p.name: old_size_for(p.name) if old_size_for else p.size for p in self._peers}
            # beyond this checkpoint? ask from 0 and let the witness say what it has seen
            olds = {name: old if old <= size else 0 for name, old in olds.items()}
            answers = self._round(note, size, olds, proof)
            again = {
                name: a.size
                for name, a in answers.items()
                if isinstance(a, _Answer) and a.size is not None
                if a.size != olds[name] and a.size <= size
            }
            answers.update(self._round(note, size, again, proof))
            found: list[NoteSignature] = []
            troubles: list[Problem] = []
            for peer in self._peers:
                outcome = self._judge(peer, note, size, answers[peer.name])
                if isinstance(outcome, Problem):
                    log.warning("witness %s did not cosign size %d: %s", peer.name, size, outcome)
                    troubles.append(outcome)
                else:
                    peer.size = size
                    found += outcome
        return self._enough(note.with_signatures(found), troubles)

    def _enough(self, note: Note, troubles: list[Problem]) -> Note:
        have = len(witnessed_by(note, self.keys, ed25519_verify))
        if have < self.quorum:
            raise UpstreamError(
                code="witness_quorum_not_met",
                zh=f"只有 {have} 个见证方联署了检查点，需要 {self.quorum} 个",
                en=f"only {have} witness(es) cosigned the checkpoint; {self.quorum} required",
                problems=troubles,
            )
        return note

    def _round(
        self, note: Note, size: int, olds: Mapping[str, int], proof: ProofFn
    ) -> dict[str, _Answer | Problem]:
        """Ask the witnesses named in `olds`, each from its old size, all at once."""
        proofs: dict[int, list[bytes] | Problem] = {}
        for old in set(olds.values()):
            try:
                proofs[old] = [] if old == 0 or old >= size else proof(old, size)
            except DanganError as exc:
                proofs[old] = Problem("proof", exc.code, exc.zh, exc.en)
        pending: dict[str, Future[_Answer | Problem] | Problem] = {}
        for peer in self._peers:
            if peer.name in olds:
                old = olds[peer.name]
                made = proofs[old]
                pending[peer.name] = (
                    made
                    if isinstance(made, Problem)
                    else self._pool.submit(self._post, peer, request_body(old, made, note))
                )
        return {n: p if isinstance(p, Problem) else p.result() for n, p in pending.items()}

    def _post(self, peer: _Peer, body: bytes) -> _Answer | Problem:
        try:
            response = self._http.post(f"{peer.url}/add-checkpoint", content=body)
        except httpx.HTTPError as exc:
            return _trouble(peer, "witness_unreachable", f"unreachable: {type(exc).__name__}")
        return _Answer(response.status_code, response.text, _size_of(response))

    def _judge(
        self, peer: _Peer, note: Note, size: int, answer: _Answer | Problem
    ) -> list[NoteSignature] | Problem:
        """The valid cosignatures in a witness's answer, or what went wrong."""
        if isinstance(answer, Problem):
            return answer
        if answer.size is not None and answer.size > size:
            return _trouble(
                peer,
                "witness_ahead",
                f"it cosigned size {answer.size} of this log, beyond {size}: entries were lost",
            )
        if answer.status != 200:
            return _trouble(peer, "witness_refused", f"{answer.status} {answer.body[:200]!r}")
        try:
            answered = parse_note(note.text + "\n" + answer.body)
        except DanganError:
            answered = None
        if answered is None or answered.text != note.text:
            return _trouble(peer, "witness_bad_answer", "the answer is not signature lines")
        kid = key_id(peer.name, COSIGNATURE_V1, peer.public_key)
        valid = [
            s
            for s in answered.by(peer.name, kid)
            if verify_cosignature(Note(note.text, (s,)), peer.name, peer.public_key, ed25519_verify)
            is not None
        ]
        if not valid:
            return _trouble(peer, "witness_bad_cosignature", "no valid cosignature by its key")
        return valid
