"""Real witness processes (`dangan witness init|trust|serve`) and in-memory logs that sign
their checkpoints as C2SP notes, for the witness tests."""

from __future__ import annotations

import base64
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from dangan.crypto import IntlSuite, SmSuite, hash_with
from dangan.ledger.domain import MemoryTree, leaf_hash
from dangan.ledger.note import SIGNATURE_TYPES, CheckpointText, Note, sign_note
from dangan.witness.domain import Latest, trusted_log
from dangan.witness.keys import STATE_FILE
from dangan.witness.state import WitnessState

DANGAN = str(Path(sys.executable).with_name("dangan"))
HOST = "127.0.0.1"
START_TIMEOUT = 20.0


def dangan(*args: str) -> dict[str, object]:
    done = subprocess.run([DANGAN, *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Log:
    """A log held in memory: its tree, and its signing key (which an attacker may steal)."""

    origin: str
    sign: str  # "ed25519" | "sm2-sm3"
    hash_name: str
    public_key: bytes
    signer: Callable[[bytes], bytes] = field(repr=False)
    tree: MemoryTree = field(repr=False)

    @classmethod
    def new(cls, origin: str, sign: str = "ed25519", leaves: int = 0) -> Log:
        suite = IntlSuite.generate() if sign == "ed25519" else SmSuite.generate()
        hash_name = suite.hash_name

        def h(data: bytes) -> bytes:
            return hash_with(hash_name, data)

        log = cls(origin, sign, hash_name, suite.public_key(), suite.sign, MemoryTree(h))
        log.grow(leaves)
        return log

    def grow(self, n: int, tag: str = "") -> None:
        for _ in range(n):
            entry = f"{self.origin} entry {self.tree.size}{tag}".encode()
            self.tree.append(leaf_hash(self.tree.h, entry))

    def fork(self, size: int, tag: str = "forged") -> MemoryTree:
        """Another tree, sharing nothing with this one, with `size` leaves."""
        other = MemoryTree(self.tree.h)
        for i in range(size):
            other.append(leaf_hash(self.tree.h, f"{self.origin} {tag} {i}".encode()))
        return other

    def note(self, size: int | None = None, tree: MemoryTree | None = None) -> Note:
        tree = tree or self.tree
        size = tree.size if size is None else size
        text = CheckpointText(self.origin, size, tree.root(size)).text()
        kind = SIGNATURE_TYPES[self.sign]
        return sign_note(text, self.origin, kind, self.public_key, self.signer)

    def proof(self, old: int, new: int) -> list[bytes]:
        return [] if old in (0, new) else self.tree.consistency_proof(old, new)

    def body(self, old: int, note: Note, proof: list[bytes] | None = None) -> bytes:
        size = int(note.text.split("\n")[1])
        lines = proof if proof is not None else self.proof(old, size)
        encoded = "".join(base64.b64encode(x).decode() + "\n" for x in lines)
        return f"old {old}\n{encoded}\n{note.render()}".encode()


@dataclass
class Witness:
    """A witness directory and the `dangan witness serve` process over it."""

    directory: Path
    name: str
    public_key: bytes
    port: int = 0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @classmethod
    def init(cls, directory: Path, name: str) -> Witness:
        made = dangan("witness", "init", "--dir", str(directory), "--name", name)
        return cls(directory, name, bytes.fromhex(str(made["public_key"])))

    def trust(self, log: Log) -> None:
        """What `dangan witness trust` does, in this process (a CLI start costs a second or
        two; the command itself is tested in test_witness_cli.py). The running witness reads
        its logs per request, so this takes effect at once."""
        key = trusted_log(log.origin, log.hash_name, log.origin, log.sign, log.public_key.hex())
        WitnessState(self.directory / STATE_FILE).trust(log.origin, log.hash_name, key)

    def trust_cli(self, log: Log) -> None:
        dangan(
            "witness", "trust", "--dir", str(self.directory), "--origin", log.origin,
            "--public-key", log.public_key.hex(), "--sign", log.sign, "--hash", log.hash_name,
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> Witness:
        self.port = free_port()
        argv = [DANGAN, "witness", "serve", "--dir", str(self.directory), "--port", str(self.port)]
        log = (self.directory.parent / f"{self.directory.name}-{self.port}.log").open("wb")
        with log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "the witness exited at start"
            try:
                socket.create_connection((HOST, self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise TimeoutError("the witness did not start listening")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def post(self, body: bytes, client: httpx.Client | None = None) -> httpx.Response:
        url = f"{self.url}/add-checkpoint"
        if client is not None:
            return client.post(url, content=body)
        return httpx.post(url, content=body, timeout=10)

    def latest(self, origin: str) -> Latest | None:
        return WitnessState(self.directory / STATE_FILE).latest(origin)
