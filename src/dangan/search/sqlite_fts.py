"""Full-text index on SQLite FTS5 over jieba-segmented text.

The FTS5 table holds the segmented title, body and meta (unicode61 then only splits on the
spaces); a plain table maps record ids to FTS rowids and keeps the original title and body for
snippets. User input never reaches FTS5 query syntax: the MATCH expression is built from
quoted tokens only, and is itself a bound parameter.
"""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    Connection,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from dangan.search.interfaces import Hit, IndexFields, SearchPage, Within
from dangan.search.tokenizer import make_snippet, tokens_for_index, tokens_for_query

# bm25 column weights, in column order: title, body, meta.
WEIGHTS = (10.0, 1.0, 4.0)
MAX_LIMIT = 1000
_DOC = table("search_doc", column("id"), column("record_id"), column("title"), column("body"))
_FTS = table("search_fts", column("rowid"))


def fts5_quote(token: str) -> str:
    """An FTS5 string literal: inside double quotes only a doubled quote is special."""
    return '"' + token.replace('"', '""') + '"'


def match_expression(query: str) -> str | None:
    """AND of quoted tokens, or None when the query has no searchable token."""
    toks = tokens_for_query(query)
    return " AND ".join(fts5_quote(t) for t in toks) if toks else None


def check_page(limit: int, offset: int) -> tuple[int, int]:
    return max(1, min(int(limit), MAX_LIMIT)), max(0, int(offset))


class SqliteFtsIndex:
    def ddl(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS search_doc ("
            "id INTEGER PRIMARY KEY, record_id TEXT NOT NULL UNIQUE, "
            "title TEXT NOT NULL, body TEXT NOT NULL)",
            "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5("
            "title, body, meta, tokenize = 'unicode61 remove_diacritics 2')",
        ]

    def index(self, conn: Connection | Session, record_id: str, fields: IndexFields) -> None:
        row_id = conn.execute(
            text(
                "INSERT INTO search_doc (record_id, title, body) "
                "VALUES (:rid, :title, :body) ON CONFLICT (record_id) DO UPDATE SET "
                "title = excluded.title, body = excluded.body RETURNING id"
            ),
            {"rid": record_id, "title": fields["title"], "body": fields["body"]},
        ).scalar_one()
        conn.execute(text("DELETE FROM search_fts WHERE rowid = :id"), {"id": row_id})
        conn.execute(
            text(
                "INSERT INTO search_fts (rowid, title, body, meta) "
                "VALUES (:id, :title, :body, :meta)"
            ),
            {
                "id": row_id,
                "title": tokens_for_index(fields["title"]),
                "body": tokens_for_index(fields["body"]),
                "meta": tokens_for_index(fields["meta"]),
            },
        )

    def remove(self, conn: Connection | Session, record_id: str) -> None:
        row_id = conn.execute(
            text("DELETE FROM search_doc WHERE record_id = :rid RETURNING id"),
            {"rid": record_id},
        ).scalar_one_or_none()
        if row_id is not None:
            conn.execute(text("DELETE FROM search_fts WHERE rowid = :id"), {"id": row_id})

    def search(
        self,
        conn: Connection | Session,
        query: str,
        limit: int = 20,
        offset: int = 0,
        *,
        within: Within | None = None,
    ) -> SearchPage:
        expr = match_expression(query)
        if expr is None:
            return SearchPage(total=0, hits=[])
        limit, offset = check_page(limit, offset)
        joined = _FTS.join(_DOC, _DOC.c.id == _FTS.c.rowid)
        # MATCH takes the table name as its left operand; the expression stays a bound value.
        where: list[ColumnElement[bool] | TextClause] = [
            text("search_fts MATCH :q").bindparams(bindparam("q", expr))
        ]
        if within is not None:
            where.append(_DOC.c.record_id.in_(within.scalar_subquery()))
        total = conn.execute(select(func.count()).select_from(joined).where(*where)).scalar_one()
        rank = func.bm25(literal_column("search_fts"), *WEIGHTS).label("r")
        rows = conn.execute(
            select(_DOC.c.record_id, rank, _DOC.c.title, _DOC.c.body)
            .select_from(joined)
            .where(*where)
            .order_by(literal_column("r"), _DOC.c.record_id)
            .limit(limit)
            .offset(offset)
        ).all()
        toks = tokens_for_query(query)
        hits = [
            # bm25() is lower-is-better and negative; flip it so higher is better.
            Hit(record_id=rid, score=-float(r), snippet=make_snippet(title, body, toks))
            for rid, r, title, body in rows
        ]
        return SearchPage(total=int(total), hits=hits)
