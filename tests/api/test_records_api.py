"""/api/v1/records on SQLite and PostgreSQL: who sees what (items, totals, facets), details,
downloads verified replica by replica, corrections, history, proofs and verification — and the
ledger events every request leaves behind, refusals included."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import delete, select

from dangan.bootstrap import Container
from dangan.core.errors import IntegrityFailure
from dangan.crypto import hash_with, verifier_for
from dangan.ledger import verify_proof_bundle
from dangan.ledger.models import LedgerEntry
from dangan.records import download as downloading
from dangan.records.domain import IncomingFile, Submission
from dangan.records.models import Record
from dangan.records.staging import logical_path
from tests.api.conftest import TestClient, bearer
from tests.archive_kit import NOTICE, ingest, notice, sm3_hex, write_doc
from tests.people_kit import actor, admins, department, person, sign_in_token

UA = {"User-Agent": "pytest-dangan"}


@dataclass
class World:
    c: Container
    api: TestClient
    tokens: dict[str, str]  # role name -> session token
    rec: dict[str, str]  # short name -> record id
    paths: dict[str, Path] = field(default_factory=dict)

    def h(self, who: str) -> dict[str, str]:
        return {**bearer(self.tokens[who]), **UA}

    def get(self, who: str, url: str, **kw: Any) -> Any:
        return self.api.get(url, headers=self.h(who), **kw)


# Records: (department, 控制标识, 密级)
RECORDS = {
    "a_open": ("办公室", "开放", "公开"),
    "a_ctrl": ("办公室", "控制", "内部"),
    "a_secret": ("办公室", "控制", "秘密"),
    "child": ("秘书科", "控制", "公开"),
    "b_ctrl": ("财务处", "控制", "公开"),
    "b_open": ("财务处", "开放", "公开"),
    "a_top": ("办公室", "控制", "机密"),
}
# What each person may see (read_metadata), from the policy's rules.
EXPECTED = {
    "archivist": {"a_open", "a_ctrl", "a_secret", "child", "b_ctrl", "b_open", "finance"},
    "head_a": {"a_open", "a_ctrl", "a_secret", "child"},
    "staff_a": {"a_open", "a_ctrl", "b_open"},  # clearance 内部 caps a_secret
    "staff_b": {"b_ctrl", "b_open", "a_open", "finance"},
}
PEOPLE = tuple(EXPECTED)
ADMINS = ("sysadmin", "auditor")


def ledger_events(c: Container, since: int = 0) -> list[dict[str, Any]]:
    with c.sessions() as s:
        rows = s.execute(
            select(LedgerEntry.seq, LedgerEntry.event)
            .where(LedgerEntry.seq >= since)
            .order_by(LedgerEntry.seq)
        )
        return [{"seq": seq, **json.loads(ev)} for seq, ev in rows]


def ledger_size(c: Container) -> int:
    with c.sessions() as s:
        return c.ledger.size(s)


def brief(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(e["type"], e["actor"], e["outcome"]) for e in events]


@pytest.fixture
def world(instance: Container, make_api: Callable[..., TestClient], tmp_path: Path) -> World:
    c = instance
    admin = admins(c)
    sa, sec = admin["sysadmin"], admin["security_admin"]
    a = department(c, sa, "BGS", "办公室")
    department(c, sa, "BGS-MS", "秘书科", parent=a)
    b = department(c, sa, "CWC", "财务处")
    people = {
        "archivist": (a, "archivist", "秘密"),
        "head_a": (a, "department_head", "秘密"),
        "staff_a": (a, "staff", "内部"),
        "staff_b": (b, "staff", "秘密"),
    }
    for name, (dept, role, clearance) in people.items():
        person(c, sa, sec, name, department=dept, role=role, clearance=clearance)
    tokens = {
        name: sign_in_token(c, name, ip="10.0.0.9", user_agent="pytest")
        for name in (*people, "sysadmin", "auditor")
    }
    rec: dict[str, str] = {}
    paths: dict[str, Path] = {}
    for n, (key, (dept_name, openness, cls)) in enumerate(RECORDS.items(), start=1):
        sub = notice(
            tmp_path / "in",
            n,
            department=dept_name,
            control_identifier=openness,
            security_classification=cls,
        )
        rec[key] = ingest(c, sub)["record_id"]
        paths[key] = sub.files[0].path
    fin = write_doc(tmp_path / "fin", "预算.txt", "财务预算安全生产经费说明")
    rec["finance"] = ingest(
        c,
        Submission(
            "finance",
            "FIN-1",
            {**NOTICE, "title": "关于安全生产经费预算的报告", "department": "财务处"},
            [IncomingFile(fin, fin.name)],
        ),
    )["record_id"]
    paths["finance"] = fin
    return World(c, make_api(c), tokens, rec, paths)


def ids(w: World, names: set[str]) -> set[str]:
    return {w.rec[n] for n in names}


# --- browse: items, totals, facets --------------------------------------------------------------


@pytest.mark.parametrize("who", PEOPLE)
def test_browse_shows_exactly_what_the_policy_allows(world: World, who: str) -> None:
    r = world.get(who, "/api/v1/records", params={"size": 100})
    assert r.status_code == 200, r.text
    page = r.json()
    assert {i["record_id"] for i in page["items"]} == ids(world, EXPECTED[who])
    assert page["total"] == len(EXPECTED[who])
    with world.c.sessions() as s:
        rows = s.scalars(select(Record).where(Record.id.in_(ids(world, EXPECTED[who])))).all()
    for facet, attr in (("year", "year"), ("retention", "retention"), ("org", "org_code")):
        want = Counter(getattr(r, attr) for r in rows)
        got = {f["value"]: f["count"] for f in page["facets"][facet]}
        assert got == dict(want), facet
    item = next(i for i in page["items"] if i["record_id"] == world.rec["a_open"])
    assert item["date_precision"] == "day"
    assert set(item) == {
        "record_id",
        "archival_code",
        "title",
        "date",
        "date_precision",
        "author",
        "security_classification",
    }
    assert item["security_classification"] == "公开"


def test_browse_filters_and_pages_inside_the_visible_set(world: World) -> None:
    first = world.get("staff_b", "/api/v1/records", params={"size": 2, "page": 1}).json()
    second = world.get("staff_b", "/api/v1/records", params={"size": 2, "page": 2}).json()
    assert first["total"] == second["total"] == 4
    assert len(first["items"]) == len(second["items"]) == 2
    seen = {i["record_id"] for i in first["items"] + second["items"]}
    assert seen == ids(world, EXPECTED["staff_b"])
    none = world.get("staff_b", "/api/v1/records", params={"year": 1999}).json()
    assert (none["total"], none["items"]) == (0, [])
    assert none["facets"] == {"year": [], "retention": [], "org": []}
    bad = world.get("staff_b", "/api/v1/records", params={"size": 1000})
    assert bad.status_code == 422


def test_browse_leaves_one_ledger_event(world: World) -> None:
    before = ledger_size(world.c)
    world.get("staff_a", "/api/v1/records", params={"year": 2024, "page": 1})
    events = ledger_events(world.c, before)
    assert brief(events) == [("record.browse", "staff_a", "success")]
    d = events[0]["details"]
    assert (d["year"], d["total"], d["page"], d["user_agent"]) == (2024, 3, 1, UA["User-Agent"])
    assert d["ip"]


@pytest.mark.parametrize("who", ADMINS)
def test_administrators_get_nothing_from_records(world: World, who: str) -> None:
    before = ledger_size(world.c)
    urls = [
        "/api/v1/records",
        f"/api/v1/records/{world.rec['a_open']}",
        f"/api/v1/records/{world.rec['a_open']}/history",
        f"/api/v1/records/{world.rec['a_open']}/files/notice-1.txt",
    ]
    for url in urls:
        r = world.get(who, url)
        assert r.status_code == 403, url
        assert r.json()["code"] == "separation_of_duties"
    events = ledger_events(world.c, before)
    assert [(e["actor"], e["outcome"]) for e in events] == [(who.replace("_", ""), "denied")] * 4


def test_no_session_is_401(world: World) -> None:
    assert world.api.get("/api/v1/records").status_code == 401


# --- one record ----------------------------------------------------------------------------------


def test_details_by_id_and_by_archival_code(world: World) -> None:
    rid = world.rec["a_ctrl"]
    by_id = world.get("staff_a", f"/api/v1/records/{rid}")
    assert by_id.status_code == 200, by_id.text
    code = by_id.json()["archival_code"]
    assert "·" in code
    by_code = world.get("staff_a", f"/api/v1/records/{quote(code)}")
    assert by_code.json()["record_id"] == rid
    assert by_code.json()["files"][0]["name"] == "notice-2.txt"


def test_details_are_recorded_with_who_where_and_what(world: World) -> None:
    before = ledger_size(world.c)
    world.get("head_a", f"/api/v1/records/{world.rec['child']}")
    world.get("head_a", f"/api/v1/records/{world.rec['b_ctrl']}")  # not hers: 404
    events = ledger_events(world.c, before)
    assert brief(events) == [
        ("record.viewed", "head_a", "success"),
        ("record.viewed", "head_a", "denied"),
    ]
    assert events[0]["target"] == world.rec["child"]
    assert "target" not in events[1]  # the ledger does not tell invisible from missing
    assert events[1]["details"]["reason"] == "record_not_found"


# --- download --------------------------------------------------------------------------------


def test_download_is_verified_and_named(world: World) -> None:
    rid = world.rec["a_open"]
    before = ledger_size(world.c)
    r = world.get("staff_a", f"/api/v1/records/{rid}/files/notice-1.txt")
    assert r.status_code == 200, r.text
    assert r.content == world.paths["a_open"].read_bytes()
    assert r.headers["x-dangan-sm3"] == sm3_hex(world.paths["a_open"])
    assert "filename*=UTF-8''notice-1.txt" in r.headers["content-disposition"]
    events = ledger_events(world.c, before)
    assert brief(events) == [("record.downloaded", "staff_a", "success")]
    assert events[0]["details"]["file"] == "notice-1.txt"
    assert events[0]["details"]["sm3"] == r.headers["x-dangan-sm3"]


def test_chinese_file_name_uses_rfc5987(world: World) -> None:
    r = world.get("archivist", f"/api/v1/records/{world.rec['finance']}/files/{quote('预算.txt')}")
    assert r.status_code == 200, r.text
    cd = r.headers["content-disposition"]
    assert f"filename*=UTF-8''{quote('预算.txt')}" in cd
    assert 'filename="__.txt"' in cd


def test_download_without_the_right_is_403_with_the_policy_reason(world: World) -> None:
    before = ledger_size(world.c)
    # staff_b may read the description of an open record of another department, not its content
    r = world.get("staff_b", f"/api/v1/records/{world.rec['a_open']}/files/notice-1.txt")
    assert r.status_code == 403
    body = r.json()
    assert body["code"] == "not_in_scope"
    assert body["zh"]
    assert body["en"]
    events = ledger_events(world.c, before)
    assert brief(events) == [("record.downloaded", "staff_b", "denied")]
    assert events[0]["details"]["reason"] == "not_in_scope"
    assert events[0]["target"] == world.rec["a_open"]


def test_unknown_file_is_404(world: World) -> None:
    r = world.get("staff_a", f"/api/v1/records/{world.rec['a_open']}/files/nope.txt")
    assert (r.status_code, r.json()["code"]) == (404, "file_not_found")


def _corrupt(c: Container, root_index: int, rid: str, name: str) -> None:
    root = c.roots[root_index]
    key = root.content_key(rid, logical_path(name))
    data = bytearray(root.store.get(key))
    data[0] ^= 0x01
    root.store.put(key, bytes(data))


def test_corrupt_replica_is_skipped_and_recorded(tmp_path: Path, world: World) -> None:
    rid = world.rec["a_open"]
    c = world.c
    if len(c.roots) < 2:
        pytest.skip("needs two storage roots")
    _corrupt(c, 0, rid, "notice-1.txt")
    before = ledger_size(c)
    r = world.get("staff_a", f"/api/v1/records/{rid}/files/notice-1.txt")
    assert r.status_code == 200
    assert r.content == world.paths["a_open"].read_bytes()
    events = ledger_events(c, before)
    assert brief(events) == [
        ("integrity.replica_failed", "staff_a", "failure"),
        ("record.downloaded", "staff_a", "success"),
    ]
    assert events[0]["details"]["root"] == c.roots[0].store.name


def test_every_replica_corrupt_is_a_500_digest_mismatch(world: World) -> None:
    rid = world.rec["a_open"]
    c = world.c
    for i in range(len(c.roots)):
        _corrupt(c, i, rid, "notice-1.txt")
    before = ledger_size(c)
    r = world.get("staff_a", f"/api/v1/records/{rid}/files/notice-1.txt")
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "content_digest_mismatch"
    events = ledger_events(c, before)
    assert brief(events) == [
        *[("integrity.replica_failed", "staff_a", "failure")] * len(c.roots),
        ("record.downloaded", "staff_a", "failure"),
    ]


def test_large_files_stream_verified(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(downloading, "SMALL_FILE", 1)
    monkeypatch.setattr(downloading, "CHUNK", 7)
    rid = world.rec["a_open"]
    r = world.get("staff_a", f"/api/v1/records/{rid}/files/notice-1.txt")
    assert r.status_code == 200
    assert r.content == world.paths["a_open"].read_bytes()
    assert r.headers["x-dangan-sm3"] == sm3_hex(world.paths["a_open"])


def test_large_corrupt_file_never_arrives_whole(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(downloading, "SMALL_FILE", 1)
    monkeypatch.setattr(downloading, "CHUNK", 7)
    c = world.c
    rid = world.rec["a_open"]
    for i in range(len(c.roots)):
        _corrupt(c, i, rid, "notice-1.txt")
    person = _person(world, "staff_a")
    got = downloading.download(c, person, rid, "notice-1.txt")
    assert got.chunks is not None
    sent: list[bytes] = []
    with pytest.raises(IntegrityFailure) as caught:
        sent.extend(got.chunks)
    assert caught.value.code == "content_digest_mismatch"
    assert 0 < len(b"".join(sent)) < got.size  # the last chunk was withheld
    last = ledger_events(c, ledger_size(c) - 1)[0]
    assert (last["type"], last["details"]["problem"]) == (
        "integrity.replica_failed",
        "stream_digest_mismatch",
    )


def _person(w: World, name: str) -> Any:
    from dataclasses import replace

    return replace(actor(w.c, name), ip="127.0.0.1", user_agent="t")


# --- edit, history, proof ----------------------------------------------------------------------


def test_archivist_edit_creates_version_2_and_event(world: World) -> None:
    rid = world.rec["b_ctrl"]
    before = ledger_size(world.c)
    r = world.api.patch(
        f"/api/v1/records/{rid}",
        headers=world.h("archivist"),
        json={"changes": {"title": "关于开展消防安全大检查的通知"}, "reason": "依原件更正"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"record_id": rid, "version": 2, "changed": ["title"]}
    events = ledger_events(world.c, before)
    assert brief(events) == [("record.edited", "archivist", "success")]
    assert events[0]["details"]["ip"]
    hist = world.get("archivist", f"/api/v1/records/{rid}/history").json()
    assert [v["version"] for v in hist["versions"]] == [1, 2]
    assert [e["type"] for e in hist["events"]] == ["record.archived", "record.edited"]


def test_edit_refused_is_403_and_recorded(world: World) -> None:
    rid = world.rec["a_ctrl"]
    before = ledger_size(world.c)
    r = world.api.patch(
        f"/api/v1/records/{rid}",
        headers=world.h("staff_a"),
        json={"changes": {"title": "改"}, "reason": "试"},
    )
    assert (r.status_code, r.json()["code"]) == (403, "not_in_scope")
    assert brief(ledger_events(world.c, before)) == [("record.edited", "staff_a", "denied")]
    assert world.get("staff_a", f"/api/v1/records/{rid}").json()["version"] == 1


def test_edit_cannot_lift_a_record_above_the_editors_clearance(world: World) -> None:
    """The policy is asked again about the corrected record, inside the same transaction."""
    rid = world.rec["b_ctrl"]
    before = ledger_size(world.c)
    r = world.api.patch(
        f"/api/v1/records/{rid}",
        headers=world.h("archivist"),  # clearance 秘密
        json={"changes": {"security_classification": "绝密"}, "reason": "定密调整"},
    )
    assert (r.status_code, r.json()["code"]) == (403, "clearance_too_low")
    # Rolled back whole (no version); the refusal alone is on the ledger.
    assert brief(ledger_events(world.c, before)) == [("record.edited", "archivist", "denied")]
    shown = world.get("archivist", f"/api/v1/records/{rid}").json()
    assert shown["version"] == 1
    assert shown["metadata"]["security_classification"] == "公开"


def test_edit_with_a_cookie_needs_csrf(world: World) -> None:
    rid = world.rec["a_ctrl"]
    world.api.cookies.set("dangan_session", world.tokens["archivist"])
    try:
        r = world.api.patch(
            f"/api/v1/records/{rid}", json={"changes": {"title": "改"}, "reason": "试"}
        )
    finally:
        world.api.cookies.clear()
    assert (r.status_code, r.json()["code"]) == (403, "csrf_failed")


def test_history_lists_only_the_records_own_events(world: World) -> None:
    rid, other = world.rec["a_open"], world.rec["a_ctrl"]
    world.get("staff_a", f"/api/v1/records/{rid}")
    world.get("staff_a", f"/api/v1/records/{other}")
    hist = world.get("staff_a", f"/api/v1/records/{rid}/history").json()
    assert [e["type"] for e in hist["events"]] == ["record.archived"]
    assert all(e.get("target") == rid for e in hist["events"])


def test_proof_of_an_event_of_that_record(world: World) -> None:
    rid = world.rec["a_open"]
    hist = world.get("staff_a", f"/api/v1/records/{rid}/history").json()
    seq = hist["events"][0]["seq"]
    r = world.get("staff_a", f"/api/v1/records/{rid}/events/{seq}/proof")
    assert r.status_code == 200, r.text
    bundle = r.json()
    assert bundle["seq"] == seq
    checks = verify_proof_bundle(
        bundle,
        world.c.suite.public_key(),
        lambda d: hash_with(bundle["hash"], d),
        verifier_for(bundle["sign"]),
    )
    assert checks == []
    assert json.loads(bundle["event"])["target"] == rid
    other = world.get("staff_a", f"/api/v1/records/{world.rec['a_ctrl']}/history").json()
    wrong = other["events"][0]["seq"]
    r2 = world.get("staff_a", f"/api/v1/records/{rid}/events/{wrong}/proof")
    assert (r2.status_code, r2.json()["code"]) == (404, "ledger_entry_not_found")


# --- verification: replicas, signatures and the record's ledger events --------------------------


def _findings(report: dict[str, Any]) -> set[tuple[str, int | None]]:
    return {(f["code"], f["seq"]) for f in report["ledger_findings"]}


def test_verification_reports_a_deleted_ledger_event_by_position(world: World) -> None:
    rid = world.rec["a_open"]
    r = world.get("staff_a", f"/api/v1/records/{rid}/verification")
    assert r.status_code == 200, r.text
    good = r.json()
    assert (good["ok"], good["problems"]) == (True, [])
    [seq] = good["ledger_positions"]
    with world.c.sessions.begin() as s:
        s.execute(delete(LedgerEntry).where(LedgerEntry.seq == seq))
    bad = world.get("staff_a", f"/api/v1/records/{rid}/verification").json()
    assert bad["ok"] is False
    assert ("ledger_entry_missing", seq) in _findings(bad)
    # the proof view names it too, instead of answering that the record has no such event
    before = ledger_size(world.c)
    r = world.get("staff_a", f"/api/v1/records/{rid}/events/{seq}/proof")
    assert (r.status_code, r.json()["code"]) == (500, "ledger_event_invalid")
    assert f"ledger position {seq}" in r.json()["en"]
    assert brief(ledger_events(world.c, before)) == [("record.proof_viewed", "staff_a", "failure")]


def test_verification_and_proof_name_an_edited_ledger_event(world: World) -> None:
    rid = world.rec["a_open"]
    seq = world.get("staff_a", f"/api/v1/records/{rid}/history").json()["events"][0]["seq"]
    with world.c.sessions.begin() as s:
        entry = s.get(LedgerEntry, seq)
        assert entry is not None
        entry.event = entry.event.replace('"actor":"system:oa"', '"actor":"system:hr"')
    report = world.get("staff_a", f"/api/v1/records/{rid}/verification").json()
    assert report["ok"] is False
    assert {("ledger_leaf_mismatch", seq), ("ledger_proof_invalid", seq)} <= _findings(report)
    r = world.get("staff_a", f"/api/v1/records/{rid}/events/{seq}/proof")
    assert (r.status_code, r.json()["code"]) == (500, "ledger_event_invalid")
    assert f"账本位置 {seq}" in r.json()["zh"]
    # another record's events are untouched, and its proof is handed out as before
    other = world.rec["a_ctrl"]
    assert world.get("archivist", f"/api/v1/records/{other}/verification").json()["ok"] is True
