"""POST/GET /api/v1/submissions: archiving, idempotency, limits, async, callbacks, client."""

from __future__ import annotations

import importlib.util
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from dangan.adapters.http import ApiOptions
from dangan.bootstrap import Container
from dangan.client import DanganApiError, DanganClient
from dangan.core.errors import InvalidInputError
from dangan.intake.callbacks import verify_notice
from dangan.records.services import confirm, get_metadata, list_queue
from dangan.web.app import create_app
from tests.api.conftest import FAST, TestClient, bearer, body, meta, spool_entries
from tests.archive_kit import NOTICE, OPERATOR, archivist, counts, new_instance
from tests.people_kit import issue_token

URL = "/api/v1/submissions"


def test_submission_is_archived_with_a_receipt(
    api: TestClient, token: str, instance: Container
) -> None:
    r = api.post(URL, headers=bearer(token), **body())
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["status"] == "archived"
    assert receipt["archival_code"].startswith("Z109-WS·2024")
    assert receipt["source"] == {"system": "oa", "id": "OA-1"}
    assert r.headers["location"] == f"{URL}/{receipt['record_id']}"
    status = api.get(r.headers["location"], headers=bearer(token)).json()
    assert status["status"] == "archived"
    assert status["receipt"]["archival_code"] == receipt["archival_code"]
    assert spool_entries(instance) == []


def test_retry_with_same_source_id_returns_the_same_receipt(api: TestClient, token: str) -> None:
    first = api.post(URL, headers=bearer(token), **body())
    again = api.post(URL, headers=bearer(token), **body())
    assert again.status_code == 201
    assert again.json()["archival_code"] == first.json()["archival_code"]
    assert again.json()["record_id"] == first.json()["record_id"]
    other = api.post(URL, headers=bearer(token), **body(text="不同的内容"))
    assert other.status_code == 409
    assert other.json()["code"] == "source_id_reused"


def test_source_system_comes_from_the_token(api: TestClient, token: str) -> None:
    r = api.post(URL, headers=bearer(token), **body(source_system="finance"))
    assert r.json()["source"]["system"] == "oa"


def test_idempotency_key_replays_or_conflicts(api: TestClient, token: str) -> None:
    headers = {**bearer(token), "Idempotency-Key": "k-1"}
    first = api.post(URL, headers=headers, **body("OA-7"))
    replay = api.post(URL, headers=headers, **body("OA-7"))
    assert (replay.status_code, replay.json()) == (first.status_code, first.json())
    clash = api.post(URL, headers=headers, **body("OA-8"))
    assert clash.status_code == 409
    assert clash.headers["content-type"] == "application/problem+json"
    assert clash.json()["code"] == "idempotency_key_reused"


def test_oversized_file_is_refused_and_nothing_kept(
    tmp_path: Path, db_url: str, make_api: Callable[..., TestClient]
) -> None:
    c = new_instance(tmp_path / "small", db_url, storage={"max_file_bytes": 100})
    try:
        api = make_api(c)
        tok, _ = issue_token(c, "oa", ["submit"])
        before = counts(c)
        r = api.post(URL, headers=bearer(tok), **body(text="档" * 200))
        assert r.status_code == 413
        assert r.json()["code"] == "payload_too_large"
        assert counts(c)[0] == before[0] == 0
        assert spool_entries(c) == []
    finally:
        c.close()


def _raw_multipart(boundary: str, file_name: str, cut: int | None = None) -> bytes:
    raw = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n'
        f"{json.dumps(meta(), ensure_ascii=False)}\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
        f'filename="{file_name}"\r\nContent-Type: text/plain\r\n\r\n'
        f"各有关单位：请认真开展检查。\r\n--{boundary}--\r\n"
    ).encode()
    return raw[:cut] if cut else raw


def test_truncated_multipart_is_a_bad_request(
    api: TestClient, token: str, instance: Container
) -> None:
    raw = _raw_multipart("b0undary", "a.txt")
    r = api.post(
        URL,
        headers={**bearer(token), "Content-Type": "multipart/form-data; boundary=b0undary"},
        content=raw[:-30],
    )
    assert r.status_code == 400
    assert r.json()["code"] == "multipart_truncated"
    assert counts(instance)[0] == 0
    assert spool_entries(instance) == []


def test_wrong_content_type_is_415(api: TestClient, token: str) -> None:
    r = api.post(URL, headers=bearer(token), json={"title": "x"})
    assert r.status_code == 415
    assert r.json()["code"] == "unsupported_media_type"


def test_path_traversal_file_name_is_refused(api: TestClient, token: str) -> None:
    r = api.post(
        URL,
        headers={**bearer(token), "Content-Type": "multipart/form-data; boundary=zz"},
        content=_raw_multipart("zz", "../../etc/evil.txt"),
    )
    assert r.status_code == 422
    assert "unsafe_path" in {p["code"] for p in r.json()["problems"]}


def test_invalid_metadata_lists_every_problem(
    api: TestClient, token: str, instance: Container
) -> None:
    data = {"metadata": json.dumps({"metadata": {"title": ""}})}
    files = [("files", ("a.txt", b"hello", "text/plain"))]
    r = api.post(URL, headers=bearer(token), data=data, files=files)
    assert r.status_code == 422
    problems = r.json()["problems"]
    assert {p["code"] for p in problems} >= {"source_id_required"}
    assert all(p["zh"] and p["en"] for p in problems)
    r = api.post(
        URL,
        headers=bearer(token),
        data={"metadata": json.dumps({"metadata": {"title": ""}, "source_id": "S"})},
        files=files,
    )
    assert r.status_code == 422
    assert len(r.json()["problems"]) >= 2
    assert counts(instance)[0] == 0


def test_metadata_part_is_required(api: TestClient, token: str) -> None:
    r = api.post(URL, headers=bearer(token), files=[("files", ("a.txt", b"x", "text/plain"))])
    assert r.status_code == 422
    assert r.json()["problems"][0]["code"] == "missing_metadata"


def test_declared_digests_are_checked(api: TestClient, token: str) -> None:
    kw = body(files=[{"name": "正文.txt", "sm3": "00" * 32}])
    r = api.post(URL, headers=bearer(token), **kw)
    assert r.status_code == 422
    assert "digest_mismatch" in {p["code"] for p in r.json()["problems"]}


def test_other_systems_cannot_see_a_submission(
    api: TestClient, token: str, instance: Container
) -> None:
    rid = api.post(URL, headers=bearer(token), **body()).json()["record_id"]
    other, _ = issue_token(instance, "finance", ["read_catalogue"])
    r = api.get(f"{URL}/{rid}", headers=bearer(other))
    assert r.status_code == 404
    assert r.json()["code"] == "submission_not_found"


def _wait(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_large_upload_is_archived_in_the_background(
    instance: Container, token: str, make_api: Callable[..., TestClient]
) -> None:
    api = make_api(instance, ApiOptions(async_threshold_bytes=10))
    r = api.post(URL, headers=bearer(token), **body("OA-BIG"))
    assert r.status_code == 202
    assert r.json()["status"] == "processing"
    url = r.headers["location"]
    done = _wait(
        lambda: (s := api.get(url, headers=bearer(token)).json())["status"] != "processing" and s
    )
    assert done["status"] == "archived"
    assert done["receipt"]["archival_code"]
    _wait(lambda: spool_entries(instance) == [])


class _Receiver:
    """A local HTTP server that fails the first callback and records every one."""

    def __init__(self) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.got.append((dict(self.headers), data))
                self.send_response(500 if len(receiver.got) == 1 else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    r = _Receiver()
    yield r
    r.close()


def test_callback_is_signed_and_retried(api: TestClient, token: str, receiver: _Receiver) -> None:
    r = api.post(URL, headers=bearer(token), **body(callback_url=receiver.url))
    assert r.status_code == 201
    _wait(lambda: len(receiver.got) >= 2)
    first, second = receiver.got[:2]
    assert first[1] == second[1]  # the same notice, retried
    headers, raw = second
    assert verify_notice(token, raw, headers["X-Dangan-Signature"])
    assert not verify_notice(token + "x", raw, headers["X-Dangan-Signature"])
    notice = json.loads(raw)
    assert notice["event"] == "archived"
    assert notice["receipt"]["archival_code"] == r.json()["archival_code"]


def test_rejection_is_called_back(api: TestClient, token: str, receiver: _Receiver) -> None:
    kw = body(callback_url=receiver.url, files=[{"name": "正文.txt", "sha256": "0" * 64}])
    assert api.post(URL, headers=bearer(token), **kw).status_code == 422
    _wait(lambda: len(receiver.got) >= 2)
    notice = json.loads(receiver.got[1][1])
    assert notice["event"] == "rejected"
    assert notice["problem"]["code"] == "invalid_input"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_client_and_connector_against_a_real_server(
    instance: Container, token: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(instance, FAST), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        _wait(lambda: server.started, timeout=15)
        base = f"http://127.0.0.1:{port}"
        doc = tmp_path / "doc.txt"
        doc.write_text("各有关单位：请认真开展安全生产检查。", encoding="utf-8")
        with DanganClient(base, token) as client:
            receipt = client.submit({"metadata": NOTICE}, [doc], source_id="C-1")
            assert receipt["archival_code"]
            assert client.status(receipt["record_id"])["status"] == "archived"
            with pytest.raises(DanganApiError) as err:
                client.submit({"metadata": {"title": ""}}, [doc], source_id="C-2")
            assert err.value.status == 422
            assert err.value.problems
        with DanganClient(base, "dgn_garbage") as bad, pytest.raises(DanganApiError) as err:
            bad.status(receipt["record_id"])
        assert (err.value.status, err.value.code) == (401, "token_invalid")

        outbox = tmp_path / "outbox"
        outbox.mkdir()
        for n in (1, 2):
            (outbox / f"OA-{n}.txt").write_text(f"通知正文第{n}号", encoding="utf-8")
            envelope = {"metadata": {**NOTICE, "title": f"{NOTICE['title']}{n}"}}
            (outbox / f"OA-{n}.json").write_text(json.dumps(envelope), encoding="utf-8")
        connector = _load_connector()
        args = [str(outbox), "--url", base, "--token", token]
        assert connector.main(args) == 0
        assert connector.main(args) == 0  # a re-run is answered with the same receipts
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == 4
        assert all(line.startswith("✔ OA-") and "Z109-WS" in line for line in lines)
        assert lines[:2] == lines[2:]
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def _load_connector() -> Any:
    path = Path(__file__).parents[2] / "examples" / "oa_connector.py"
    spec = importlib.util.spec_from_file_location("oa_connector", path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bagit_zip_body_is_archived(
    api: TestClient, token: str, instance: Container, tmp_path: Path
) -> None:
    from tests.unit.test_interop_bagit import make_bag_zip

    info = {
        "Title": NOTICE["title"],
        "External-Identifier": "BAG-1",
        "日期": NOTICE["date"],
        "Source-Organization": NOTICE["author"],
        "文种": "通知",
        "密级": "公开",
        "机构或问题": "办公室",
    }
    zpath = make_bag_zip(tmp_path, {"正文.txt": "各有关单位：请认真开展检查。".encode()}, info=info)
    headers = {**bearer(token), "Content-Type": "application/zip"}
    r = api.post(URL, headers=headers, content=zpath.read_bytes())
    assert r.status_code == 201, r.text
    assert r.json()["source"] == {"system": "oa", "id": "BAG-1"}
    assert r.json()["archival_code"]
    assert spool_entries(instance) == []


def _submit_dated(api: TestClient, token: str, source_id: str, date: object) -> Any:
    metadata = {k: v for k, v in NOTICE.items() if k != "date"}
    if date is not None:
        metadata["date"] = date
    form = {"metadata": {**metadata}, "source_id": source_id}
    return api.post(
        URL,
        headers=bearer(token),
        data={"metadata": json.dumps(form, ensure_ascii=False)},
        files=[("files", ("正文.txt", "各有关单位：请认真开展检查。".encode(), "text/plain"))],
    )


def test_year_only_date_is_archived_with_its_year_and_precision(
    api: TestClient, token: str, instance: Container
) -> None:
    r = _submit_dated(api, token, "OA-Y", "2019年")
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["status"] == "archived"
    assert receipt["archival_code"] == "Z109-WS·2019-D30-BGS-0001"  # 年度 from the year
    details = get_metadata(instance, archivist(), receipt["record_id"])
    assert details["date"] == "2019"
    assert details["date_precision"] == "year"
    assert details["metadata"]["date"] == "2019"
    assert details["metadata"]["year"] == 2019
    month = _submit_dated(api, token, "OA-M", "201905").json()
    assert month["archival_code"] == "Z109-WS·2019-D30-BGS-0002"
    shown = get_metadata(instance, archivist(), month["record_id"])
    assert (shown["date"], shown["date_precision"]) == ("2019-05", "month")
    bad = _submit_dated(api, token, "OA-B", "2019-02-30")
    assert bad.status_code == 422
    assert "date" in bad.text
    assert "has no day 30" in bad.text


def test_undated_submission_is_queued_with_its_reason_and_confirmed_with_a_year(
    api: TestClient, token: str, instance: Container
) -> None:
    r = _submit_dated(api, token, "OA-U", "不详")
    assert r.status_code == 201, r.text  # not refused
    receipt = r.json()
    assert receipt["status"] == "pending_review"
    assert receipt["archival_code"] is None
    absent = _submit_dated(api, token, "OA-U2", None)
    assert absent.json()["status"] == "pending_review"
    queue = {item["record_id"]: item for item in list_queue(instance, OPERATOR)}
    item = queue[receipt["record_id"]]
    assert item["date"] is None
    assert item["date_precision"] is None
    undated = item["reasons"][0]
    assert undated["code"] == "undated"
    assert "无日期" in undated["zh"]
    assert "undated" in undated["en"]
    # The schedule's own view is kept for the archivist.
    assert any(x["code"] == "suggested_retention" for x in item["reasons"])

    with pytest.raises(InvalidInputError) as no_year:
        confirm(instance, archivist(), receipt["record_id"], retention="D30", org="BGS")
    assert {(p.field, p.code) for p in no_year.value.problems} == {("year", "year_required")}
    for absurd in (0, 10000):
        with pytest.raises(InvalidInputError) as bad_year:
            confirm(
                instance, archivist(), receipt["record_id"], retention="D30", org="BGS", year=absurd
            )
        assert {(p.field, p.code) for p in bad_year.value.problems} == {("year", "bad_year")}
    # refused confirmations change nothing: still queued, still without a code
    assert receipt["record_id"] in {i["record_id"] for i in list_queue(instance, OPERATOR)}
    done = confirm(
        instance, archivist(), receipt["record_id"], retention="D30", org="BGS", year=2018
    )
    assert done["archival_code"] == "Z109-WS·2018-D30-BGS-0001"
    details = get_metadata(instance, archivist(), receipt["record_id"])
    assert details["metadata"]["year"] == 2018
    assert "date" not in details["metadata"]
    assert receipt["record_id"] not in {i["record_id"] for i in list_queue(instance, OPERATOR)}
