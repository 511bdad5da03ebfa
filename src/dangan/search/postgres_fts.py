"""Full-text index on PostgreSQL: a tsvector ('simple' over jieba-segmented text) + GIN.

Title is weighted A, body B, meta (document number, author, keywords) C. The query is the
space-joined token list given to plainto_tsquery, which treats every character as text (no
operators), as a bound parameter; tokens are already stripped of punctuation.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
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

from dangan.search.interfaces import Hit, IndexFields, SearchPage, Within
from dangan.search.sqlite_fts import check_page
from dangan.search.tokenizer import make_snippet, tokens_for_index, tokens_for_query

_DOC = table("search_doc", column("record_id"), column("title"), column("body"), column("tsv"))


class PostgresFtsIndex:
    def ddl(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS search_doc ("
            "record_id TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL, "
            "tsv tsvector NOT NULL)",
            "CREATE INDEX IF NOT EXISTS ix_search_doc_tsv ON search_doc USING GIN (tsv)",
        ]

    def index(self, conn: Connection | Session, record_id: str, fields: IndexFields) -> None:
        conn.execute(
            text(
                "INSERT INTO search_doc (record_id, title, body, tsv) VALUES (:rid, :title,"
                " :body, setweight(to_tsvector('simple', :t_title), 'A')"
                " || setweight(to_tsvector('simple', :t_body), 'B')"
                " || setweight(to_tsvector('simple', :t_meta), 'C'))"
                " ON CONFLICT (record_id) DO UPDATE SET title = excluded.title,"
                " body = excluded.body, tsv = excluded.tsv"
            ),
            {
                "rid": record_id,
                "title": fields["title"],
                "body": fields["body"],
                "t_title": tokens_for_index(fields["title"]),
                "t_body": tokens_for_index(fields["body"]),
                "t_meta": tokens_for_index(fields["meta"]),
            },
        )

    def remove(self, conn: Connection | Session, record_id: str) -> None:
        conn.execute(text("DELETE FROM search_doc WHERE record_id = :rid"), {"rid": record_id})

    def search(
        self,
        conn: Connection | Session,
        query: str,
        limit: int = 20,
        offset: int = 0,
        *,
        within: Within | None = None,
    ) -> SearchPage:
        toks = tokens_for_query(query)
        if not toks:
            return SearchPage(total=0, hits=[])
        limit, offset = check_page(limit, offset)
        tsq = func.plainto_tsquery(literal_column("'simple'"), bindparam("q", " ".join(toks)))
        where: list[ColumnElement[bool]] = [_DOC.c.tsv.op("@@", return_type=Boolean)(tsq)]
        if within is not None:
            where.append(_DOC.c.record_id.in_(within.scalar_subquery()))
        total = conn.execute(select(func.count()).select_from(_DOC).where(*where)).scalar_one()
        rank = func.ts_rank_cd(_DOC.c.tsv, tsq).label("r")
        rows = conn.execute(
            select(_DOC.c.record_id, rank, _DOC.c.title, _DOC.c.body)
            .where(*where)
            .order_by(rank.desc(), _DOC.c.record_id)
            .limit(limit)
            .offset(offset)
        ).all()
        hits = [
            Hit(record_id=rid, score=float(r), snippet=make_snippet(title, body, toks))
            for rid, r, title, body in rows
        ]
        return SearchPage(total=int(total), hits=hits)
