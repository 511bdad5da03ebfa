"""Benchmark the HTTP API: submissions/s and search latency, against the in-process floor.

    .venv/bin/python bench/api.py [--seconds 30] [--clients 8] [--db-url URL]
                                  [--floor-count 200] [--json out.json]

(a) Floor: `archive_submission` called directly, one document after another, on the same
    instance, machine and run — what archiving costs without HTTP.
(b) A uvicorn server process (`dangan.web.asgi:make_app`, one worker) on that instance;
    `--clients` threads, one business system and token each, submit notices through
    `dangan.client.DanganClient` for `--seconds`: submissions/s, p50/p95 latency.
(c) The same clients search their own archived notices (`GET /api/v1/search?q=…`, a
    `read_catalogue` token; queries are words of the titles) for `--seconds` / 2: p50/p95.
Ratio: HTTP submissions/s ÷ in-process rate (above 1 means the clients' parallelism more
than pays for HTTP, multipart spooling and authentication).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from dangan.bootstrap import Container, bootstrap
from dangan.client import DanganApiError, DanganClient
from dangan.instance.lifecycle import initialise
from dangan.records.domain import IncomingFile, Submission
from dangan.records.services import archive_submission
from dangan.settings import load_settings
from dangan.usecase import Actor

ROOT = Path(__file__).resolve().parents[1]
TOPICS = [
    "安全生产大检查",
    "防汛抗旱工作",
    "森林防火",
    "节能减排",
    "财务预算编制",
    "档案数字化",
    "信息化建设",
    "疫情防控",
    "乡村振兴",
    "营商环境优化",
    "人才引进",
    "消防安全培训",
    "数据安全管理",
    "政务公开",
    "公文处理规范",
    "固定资产清查",
]
KINDS = ["开展", "做好", "加强", "部署", "落实"]
BASE = {
    "author": "示范省应急管理厅",
    "security_classification": "公开",
    "document_type": "通知",
    "department": "办公室",
}
SCOPES = [("2023", "D10"), ("2023", "D30"), ("2024", "D10"), ("2024", "D30")]


def notice_text(rng: random.Random, n: int) -> tuple[dict[str, Any], str]:
    topic = rng.choice(TOPICS)
    title = f"关于{rng.choice(KINDS)}{topic}的通知（第{n}号）"
    year, retention = SCOPES[n % len(SCOPES)]
    meta = {**BASE, "title": title, "date": f"{year}-03-05", "retention_period": retention}
    paragraphs = [
        f"各有关单位：为{rng.choice(KINDS)}{topic}，现将有关事项通知如下。",
        *(f"{i}、{rng.choice(TOPICS)}工作要{rng.choice(KINDS)}，责任到人。" for i in range(1, 6)),
        f"请于{year}年4月底前报送{topic}情况。编号 {n}-{rng.randrange(10**9)}。",
    ]
    return meta, f"{title}\n" + "\n".join(paragraphs)


def write_notice(folder: Path, rng: random.Random, n: int) -> tuple[dict[str, Any], Path]:
    meta, text = notice_text(rng, n)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"正文-{n}.txt"
    path.write_text(text, encoding="utf-8")
    return meta, path


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))]


def floor(c: Container, work: Path, count: int) -> dict[str, Any]:
    """In-process archiving of `count` notices, one at a time (after one untimed warm-up)."""
    rng = random.Random(1)
    subs = []
    for n in range(count + 1):
        meta, path = write_notice(work / "floor", rng, n)
        subs.append(Submission("bench-floor", f"F-{n}", meta, [IncomingFile(path, path.name)]))
    archive_submission(
        c, Actor.system(subs[0].source_system, {"submit"}), subs[0]
    )  # jieba's dictionary, imports: not timed
    latencies = []
    start = time.perf_counter()
    for sub in subs[1:]:
        t0 = time.perf_counter()
        archive_submission(c, Actor.system(sub.source_system, {"submit"}), sub)
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - start
    return {"per_s": count / elapsed, "p50": pct(latencies, 0.5), "p95": pct(latencies, 0.95)}


def run_clients(clients: int, fn: Any) -> None:
    threads = [threading.Thread(target=fn, args=(w,)) for w in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def http_submissions(
    url: str, tokens: list[str], work: Path, seconds: float
) -> tuple[dict[str, Any], dict[int, list[str]]]:
    latencies: list[float] = []
    titles: dict[int, list[str]] = {w: [] for w in range(len(tokens))}
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = 0.0

    def client(w: int) -> None:
        rng = random.Random(100 + w)
        with DanganClient(url, tokens[w], timeout=120) as api:
            n = 0
            while time.monotonic() < stop_at:
                meta, path = write_notice(work / f"http-{w}", rng, n)
                t0 = time.perf_counter()
                try:
                    api.submit({"metadata": meta}, [path], f"H{w}-{n}")
                except DanganApiError as exc:
                    with lock:
                        errors.append(str(exc))
                    if exc.status == 0 or exc.status >= 500:
                        return
                else:
                    dt = time.perf_counter() - t0
                    with lock:
                        latencies.append(dt)
                        titles[w].append(meta["title"])
                n += 1

    # Warm-up: the server's first archive loads jieba's dictionary (not timed).
    rng = random.Random(99)
    meta, path = write_notice(work / "warm", rng, 0)
    with DanganClient(url, tokens[0], timeout=120) as api:
        api.submit({"metadata": meta}, [path], "WARM-0")
    stop_at = time.monotonic() + seconds
    start = time.perf_counter()
    run_clients(len(tokens), client)
    elapsed = time.perf_counter() - start
    result = {
        "count": len(latencies),
        "per_s": len(latencies) / elapsed,
        "p50": pct(latencies, 0.5),
        "p95": pct(latencies, 0.95),
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
    }
    return result, titles


def http_search(
    url: str, tokens: list[str], titles: dict[int, list[str]], seconds: float
) -> dict[str, Any] | str:
    probe = httpx.get(
        f"{url}/api/v1/search",
        params={"q": TOPICS[0]},
        headers={"Authorization": f"Bearer {tokens[0]}"},
        timeout=60,
    )
    if probe.status_code == 404 and probe.json().get("code") == "not_found":
        return "GET /api/v1/search is not there yet: skipped"
    if probe.status_code != 200:
        return f"GET /api/v1/search answered {probe.status_code}: {probe.text[:300]}"
    latencies: list[float] = []
    hits: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(w: int) -> None:
        rng = random.Random(200 + w)
        words = [t for t in TOPICS if any(t in title for title in titles[w])] or TOPICS
        headers = {"Authorization": f"Bearer {tokens[w]}"}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
            while time.monotonic() < stop_at:
                q = rng.choice(words)
                t0 = time.perf_counter()
                r = http.get("/api/v1/search", params={"q": q, "limit": 20})
                dt = time.perf_counter() - t0
                with lock:
                    if r.status_code == 200:
                        latencies.append(dt)
                        hits.append(int(r.json().get("total") or 0))
                    else:
                        errors.append(f"{r.status_code} {r.text[:200]}")

    start = time.perf_counter()
    run_clients(len(tokens), client)
    elapsed = time.perf_counter() - start
    return {
        "count": len(latencies),
        "per_s": len(latencies) / elapsed,
        "p50": pct(latencies, 0.5),
        "p95": pct(latencies, 0.95),
        "mean_hits": statistics.mean(hits) if hits else 0,
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--db-url", default=None, help="default: SQLite in the work directory")
    ap.add_argument("--floor-count", type=int, default=200)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    sys.path.insert(0, str(ROOT))  # tests.api.live_server runs the server process
    from tests.api.live_server import serve_instance

    from dangan.access.services import create_token
    from dangan.usecase import Actor

    with tempfile.TemporaryDirectory(prefix="dangan-bench-api-") as tmp:
        work = Path(tmp)
        data_dir = work / "instance"
        db_url = args.db_url or f"sqlite:///{data_dir / 'dangan.db'}"
        settings = load_settings(data_dir=data_dir, database_url=db_url)
        initialise(settings)
        c = bootstrap(settings)
        console = Actor.internal("cli")  # as `dangan token create` would
        try:
            fl = floor(c, work, args.floor_count)
            tokens = [
                create_token(c, console, f"bench-{w}", ["submit", "read_catalogue"], rate=0)[0]
                for w in range(args.clients)
            ]
        finally:
            c.close()
        with serve_instance(data_dir, db_url, access_log=False) as server:
            sub, titles = http_submissions(server.url, tokens, work, args.seconds)
            found = http_search(server.url, tokens, titles, args.seconds / 2)

    report: dict[str, Any] = {
        "database": "postgresql" if "postgres" in db_url else "sqlite",
        "clients": args.clients,
        "floor_in_process_docs_per_s": round(fl["per_s"], 1),
        "floor_p50_ms": round(fl["p50"], 1),
        "floor_p95_ms": round(fl["p95"], 1),
        "http_submissions": sub["count"],
        "http_submissions_per_s": round(sub["per_s"], 1),
        "http_submit_p50_ms": round(sub["p50"], 1),
        "http_submit_p95_ms": round(sub["p95"], 1),
        "http_submit_errors": sub["errors"],
        "ratio_http_to_in_process": round(sub["per_s"] / fl["per_s"], 2),
    }
    if sub["first_error"]:
        report["http_submit_first_error"] = sub["first_error"]
    if isinstance(found, str):
        report["search"] = found
    else:
        report.update(
            {
                "http_searches": found["count"],
                "http_searches_per_s": round(found["per_s"], 1),
                "http_search_p50_ms": round(found["p50"], 1),
                "http_search_p95_ms": round(found["p95"], 1),
                "http_search_mean_hits": round(found["mean_hits"], 1),
                "http_search_errors": found["errors"],
            }
        )
        if found["first_error"]:
            report["http_search_first_error"] = found["first_error"]
    width = max(len(k) for k in report)
    for k, v in report.items():
        print(f"{k:<{width}}  {v}")
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
