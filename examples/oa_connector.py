"""Example connector: push a folder of OA documents into Dangan over the HTTP API.

The folder is laid out as `dangan ingest FOLDER` reads it: one `X.json` envelope per
document, naming its files in a "files" list, or else every `X.*` file beside it is sent.

    DANGAN_TOKEN=dgn_… python examples/oa_connector.py --url http://127.0.0.1:8000 ./outbox

Safe to run again: each document's source_id (the envelope's, or the file stem) makes the
archive answer a retry with the same receipt; transient failures (network, 429, 5xx) are
retried with backoff under the same Idempotency-Key.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from dangan.client import DanganApiError, DanganClient


def documents(folder: Path) -> list[tuple[str, dict[str, Any], list[Path]]]:
    """(source_id, envelope, files) for every envelope in the folder."""
    out = []
    for env_path in sorted(folder.glob("*.json")):
        envelope = json.loads(env_path.read_text(encoding="utf-8"))
        names = [f["name"] for f in envelope.get("files") or []]
        if names:
            files = [folder / n for n in names]
        else:
            files = sorted(
                p
                for p in folder.iterdir()
                if p.stem == env_path.stem and p.suffix != ".json" and p.is_file()
            )
        source_id = str(envelope.pop("source_id", None) or env_path.stem)
        envelope.pop("source_system", None)  # the archive takes it from the token
        out.append((source_id, envelope, files))
    return out


def request_key(source_id: str, envelope: dict[str, Any], files: list[Path]) -> str:
    """Same document, same key: a retry after a lost answer replays the first response."""
    h = hashlib.sha256(source_id.encode())
    h.update(json.dumps(envelope, sort_keys=True, ensure_ascii=False).encode())
    for f in files:
        h.update(f.name.encode())
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()[:40]


def push(api: DanganClient, doc: tuple[str, dict[str, Any], list[Path]], attempts: int) -> str:
    source_id, envelope, files = doc
    key = request_key(source_id, envelope, files)
    for attempt in range(attempts):
        try:
            answer = api.submit(envelope, files, source_id, idempotency_key=key)
            if answer.get("status") == "processing":
                answer = api.wait(answer["record_id"])
                answer = answer.get("receipt") or answer
            return str(answer.get("archival_code") or "待整理 pending review")
        except DanganApiError as exc:
            if not exc.transient or attempt + 1 == attempts:
                raise
            time.sleep(exc.retry_after or 2**attempt)
    raise AssertionError("unreachable")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="OA → Dangan connector")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--url", default=os.environ.get("DANGAN_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--token", default=os.environ.get("DANGAN_TOKEN"))
    parser.add_argument("--attempts", type=int, default=5)
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("give --token or set DANGAN_TOKEN")
    failed = 0
    with DanganClient(args.url, args.token) as api:
        for doc in documents(args.folder):
            try:
                print(f"✔ {doc[0]} → {push(api, doc, args.attempts)}")
            except DanganApiError as exc:
                failed += 1
                print(f"✘ {doc[0]}: {exc}")
                for p in exc.problems:
                    print(f"    - {p.get('field')}: {p.get('zh')} / {p.get('en')}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
