"""The full-text index on both backends: ranking, document numbers, removal, hostile queries."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from dangan.search import IndexFields, SearchIndex, index_for
from dangan.search.sqlite_fts import match_expression

DOCS: dict[str, IndexFields] = {
    "r-safety-title": {
        "title": "关于进一步加强安全生产工作的通知",
        "body": "各市人民政府：为压实责任，现就有关事项通知如下。一、开展隐患排查整治。",
        "meta": "冀政办发〔2024〕12号 河北省人民政府办公厅 隐患排查",
    },
    "r-safety-body": {
        "title": "关于做好2024年部门预算编制工作的通知",
        "body": "各单位要坚持过紧日子思想。同时兼顾安全生产经费保障，严格控制一般性支出。",
        "meta": "京财预〔2024〕3号 北京市财政局 财政预算",
    },
    "r-archives": {
        "title": "国务院办公厅关于全面推进政务服务“一网通办”的指导意见",
        "body": "电子文件归档应当采用OFD或PDF/A等长期保存格式，确保档案真实、完整、可用、安全。",
        "meta": "国办发〔2019〕6号 国务院办公厅 档案工作 电子档案",
    },
    "r-personnel": {
        "title": "关于王伟等同志职务任免的决定",
        "body": "经研究决定，任命王伟同志为办公室主任，免去李静同志办公室副主任职务。",
        "meta": "粤人社决〔2023〕45号 人事任免",
    },
    "r-it": {
        "title": "推进政务信息化建设项目的报告",
        "body": "统筹推进政务云平台建设，加快政务数据共享交换，落实网络安全等级保护制度。",
        "meta": "鲁数报〔2022〕7号 信息化建设",
    },
}


@pytest.fixture
def idx(engine: Engine) -> SearchIndex:
    index = index_for(engine)
    with engine.begin() as conn:
        for stmt in index.ddl():
            conn.execute(text(stmt))
        # ddl() is idempotent: a migration may be re-run.
        for stmt in index.ddl():
            conn.execute(text(stmt))
        for rid, fields in DOCS.items():
            index.index(conn, rid, fields)
    return index


def ids(engine: Engine, index: SearchIndex, query: str, limit: int = 20) -> list[str]:
    with engine.connect() as conn:
        return [h.record_id for h in index.search(conn, query, limit=limit).hits]


def test_title_match_ranks_above_body_match(engine: Engine, idx: SearchIndex) -> None:
    assert ids(engine, idx, "安全生产")[:2] == ["r-safety-title", "r-safety-body"]


def test_hits_have_scores_and_highlighted_snippets(engine: Engine, idx: SearchIndex) -> None:
    with engine.connect() as conn:
        page = idx.search(conn, "安全生产")
    assert page.total == 2
    assert page.hits[0].score > page.hits[1].score
    assert "【安全生产】" in page.hits[1].snippet


def test_document_number_query(engine: Engine, idx: SearchIndex) -> None:
    assert ids(engine, idx, "国办发〔2019〕6号") == ["r-archives"]
    assert ids(engine, idx, "国办发 2019 6号") == ["r-archives"]
    assert ids(engine, idx, "冀政办发〔2024〕12号") == ["r-safety-title"]


def test_multi_word_query_needs_all_words(engine: Engine, idx: SearchIndex) -> None:
    assert ids(engine, idx, "政务 云平台") == ["r-it"]
    assert ids(engine, idx, "政务 任免") == []
    assert set(ids(engine, idx, "政务")) == {"r-archives", "r-it"}


def test_ascii_words_are_found_case_insensitively(engine: Engine, idx: SearchIndex) -> None:
    assert ids(engine, idx, "ofd") == ["r-archives"]
    assert ids(engine, idx, "PDF/A") == ["r-archives"]


def test_no_result_and_empty_queries(engine: Engine, idx: SearchIndex) -> None:
    assert ids(engine, idx, "量子计算机") == []
    with engine.connect() as conn:
        for q in ("", "   ", "，。！？", "〔〕"):
            page = idx.search(conn, q)
            assert page.total == 0
            assert page.hits == []


def test_paging(engine: Engine, idx: SearchIndex) -> None:
    with engine.connect() as conn:
        first = idx.search(conn, "关于", limit=2, offset=0)
        second = idx.search(conn, "关于", limit=2, offset=2)
        beyond = idx.search(conn, "关于", limit=2, offset=50)
    assert first.total == second.total == beyond.total == 4
    assert len(first.hits) == 2
    assert len(second.hits) == 2
    assert not {h.record_id for h in first.hits} & {h.record_id for h in second.hits}
    assert beyond.hits == []


def test_remove(engine: Engine, idx: SearchIndex) -> None:
    with engine.begin() as conn:
        idx.remove(conn, "r-it")
        idx.remove(conn, "no-such-record")  # absent: no error
    assert ids(engine, idx, "云平台") == []
    assert ids(engine, idx, "安全生产")[:1] == ["r-safety-title"]


def test_reindex_replaces(engine: Engine, idx: SearchIndex) -> None:
    with engine.begin() as conn:
        idx.index(
            conn,
            "r-it",
            {"title": "关于节能降耗专项行动的通知", "body": "推广新能源公务用车。", "meta": ""},
        )
    assert ids(engine, idx, "云平台") == []
    assert ids(engine, idx, "节能降耗") == ["r-it"]
    with engine.connect() as conn:
        assert idx.search(conn, "通知").total == 3


INJECTIONS = [
    '" OR 1=1 --',
    "title:*",
    "NEAR(",
    'NEAR("安全" "生产", 2)',
    '"unbalanced',
    "'; DROP TABLE search_doc; --",
    "安全生产 OR 预算",
    "-安全",
    "安全*",
    "body:安全 AND title:预算",
    "^安全",
    "{title body}: 安全",
    "安全 & ! 生产 | (",
    "<->",
    "\\x00\x00",
    "'",
    '"',
    "*",
    ")",
]


@pytest.mark.parametrize("query", INJECTIONS)
def test_hostile_queries_are_plain_text(engine: Engine, idx: SearchIndex, query: str) -> None:
    with engine.connect() as conn:
        page = idx.search(conn, query)
    assert page.total == len(page.hits)
    assert page.total <= len(DOCS)
    # The tables are untouched and still answer.
    assert ids(engine, idx, "安全生产")[:2] == ["r-safety-title", "r-safety-body"]


def test_operators_in_queries_are_words_not_syntax(engine: Engine, idx: SearchIndex) -> None:
    # "OR" is an ordinary token that no document contains, so this matches nothing.
    assert ids(engine, idx, "安全生产 OR 预算") == []
    # A prefix star is dropped, not honoured: "预*" is the lone word 预, which 预算 is not.
    assert ids(engine, idx, "预*") == []
    assert ids(engine, idx, "预算*") == ["r-safety-body"]


def test_fts5_expression_is_quoted_tokens_only() -> None:
    assert match_expression('" OR 1=1 --') == '"or" AND "1"'
    assert match_expression("title:*") == '"title"'
    assert match_expression("，。") is None
