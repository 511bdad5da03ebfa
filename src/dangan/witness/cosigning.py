"""One add-checkpoint request, from body to cosignature line: parse, check the log's
signature, check and advance the state atomically, then cosign (c2sp.org/tlog-cosignature,
type 0x04 Ed25519 over `cosignature/v1`, a time line and the checkpoint text).

Transport-free: `dangan.witness.server` puts it behind HTTP; tests may call it directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from dangan.core.errors import DanganError
from dangan.crypto import hash_with, verifier_for
from dangan.ledger.note import cosign
from dangan.witness.domain import (
    Latest,
    check_growth,
    check_log_signature,
    is_evidence,
    parse_request,
)
from dangan.witness.keys import STATE_FILE, WitnessKey, load_key
from dangan.witness.state import WitnessState


class Witness:
    def __init__(
        self, key: WitnessKey, state: WitnessState, clock: Callable[[], float] = time.time
    ) -> None:
        self.key = key
        self.state = state
        self._clock = clock

    @classmethod
    def open(cls, directory: Path) -> Witness:
        return cls(load_key(directory), WitnessState(directory / STATE_FILE))

    def add_checkpoint(self, body: bytes) -> str:
        """The cosignature line for the checkpoint in `body`, once the new state is stored;
        a refusal is one of the core error kinds (see `dangan.witness.domain`)."""
        request = parse_request(body)
        origin = request.checkpoint.origin
        log = check_log_signature(request, self.state.log(origin), verifier_for)
        hash_fn = partial(hash_with, log.hash_name)
        new = Latest(request.checkpoint.size, request.checkpoint.root)
        try:
            self.state.advance(
                origin,
                new,
                request.note.text,
                lambda latest: check_growth(request, latest, hash_fn),
            )
        except DanganError as exc:
            if is_evidence(exc):
                self.state.keep_evidence(origin, exc.code, body)
            raise
        timestamp = int(self._clock())
        text = request.note.text
        return cosign(text, self.key.name, self.key.public_key, timestamp, self.key.sign).line()
