"""Inbound `com.atproto.sync.requestCrawl` requests, recorded for the operator."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Text, func, insert, select
from sqlalchemy.engine import Engine

crawl_metadata = MetaData()
crawl_requests = Table(
    "crawl_requests",
    crawl_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("hostname", Text, nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


class SqlCrawlRequests:
    """Appends crawl requests; lists the most recent ones."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        crawl_metadata.create_all(engine)

    def record(self, hostname: str) -> None:
        """Remember that `hostname` asked to be crawled."""
        with self.engine.begin() as conn:
            conn.execute(insert(crawl_requests).values(hostname=hostname))

    def recent(self, limit: int = 100) -> list[str]:
        """The latest requesting hostnames, newest first."""
        query = select(crawl_requests.c.hostname).order_by(crawl_requests.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [row[0] for row in conn.execute(query)]
