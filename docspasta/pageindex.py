"""The index of a job's pages that the CLI's outputs need (the combined document's
contents and links, llms.txt), kept in a temporary SQLite file instead of memory, so
writing the outputs of a 50k-page job takes no more memory than a 1k-page one.

The pages arrive once, in crawl order; their Markdown goes to a spool file beside the
index, each followed by its marks (``bundle.Marks``: where its headings and anchor lines
are, found once here and used by every section written from it). Per page the index holds its URL, title, description and token count, where
its Markdown is in the spool, the fragments it can be linked to, and the fragments
its links name. The table of contents is a tree of path segments (``bundle.toc_tree``):
each node gets an id when it is first reached, and a page's *path* is the ids from the
root down to its node, four big-endian bytes each. Sorting pages by that blob is the
tree's pre-order with children in the order the crawl reached them — the document's
order (``bundle.document_order``) — and a subtree is a range of blobs.

Reads go through small LRU caches (the same pages are linked from most pages); the
SQLite page cache is bounded too (``CACHE_KIB``)."""

from __future__ import annotations

import functools
import os
import sqlite3
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO
from urllib.parse import unquote, urlsplit

from docspasta import bundle
from docspasta.llmstxt import section_name
from docspasta.urls import directory_prefix

CACHE_KIB = 8 * 1024
# Entries of each lookup cache (link target -> section, page -> anchors asked for).
LOOKUP_CACHE = 4096
_BATCH = 2000
_SCHEMA = """
CREATE TABLE pages (pos INTEGER PRIMARY KEY, key TEXT NOT NULL, url TEXT NOT NULL, title TEXT NOT NULL,
                    description TEXT NOT NULL, word_count INTEGER NOT NULL, tokens INTEGER NOT NULL,
                    depth INTEGER NOT NULL, start INTEGER NOT NULL, length INTEGER NOT NULL, marks INTEGER NOT NULL,
                    path BLOB NOT NULL, section INTEGER NOT NULL, number INTEGER NOT NULL DEFAULT 0,
                    shown INTEGER NOT NULL DEFAULT 0);
CREATE TABLE keys (key TEXT PRIMARY KEY, pos INTEGER NOT NULL, number INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TABLE nodes (id INTEGER PRIMARY KEY, parent INTEGER NOT NULL, name TEXT NOT NULL, path BLOB NOT NULL,
                    page INTEGER, UNIQUE (parent, name));
CREATE TABLE anchors (pos INTEGER NOT NULL, fragment TEXT NOT NULL, PRIMARY KEY (pos, fragment)) WITHOUT ROWID;
CREATE TABLE links (key TEXT NOT NULL, fragment TEXT NOT NULL, PRIMARY KEY (key, fragment)) WITHOUT ROWID;
CREATE TABLE sections (name TEXT PRIMARY KEY, rank INTEGER NOT NULL) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class Entry:
    """One page of the index, without its Markdown."""

    pos: int
    url: str
    title: str
    description: str
    word_count: int
    tokens: int
    depth: int
    number: int

    def doc(self, markdown: str = "") -> bundle.PageDoc:
        return bundle.PageDoc(url=self.url, title=self.title, markdown=markdown, word_count=self.word_count,
                              token_estimate=self.tokens, description=self.description, depth=self.depth)


_ENTRY = "pos, url, title, description, word_count, tokens, depth, number"


@dataclass(frozen=True, slots=True)
class Section:
    """A page as the document's sections need it (``PageIndex.document_order``)."""

    entry: Entry
    markdown: str
    marks: bundle.Marks
    position: int  # of the page its URL names (a later page of the same key wins)
    number: int  # that page's section number
    # The fragments of the page at ``position`` that some indexed link names (and it has),
    # when asked for.
    wanted: frozenset[str] = frozenset()


class PageIndex:
    """Pages added in crawl order (``add``), then ``finish``; then the readers."""

    def __init__(self, *, source_url: str, directory: str | None = None) -> None:
        self.source_url = source_url
        self._start_host = urlsplit(source_url).hostname or ""
        self._prefix = directory_prefix(source_url)
        fd, self._path = tempfile.mkstemp(prefix="docspasta-index-", suffix=".db", dir=directory)
        os.close(fd)
        self._db = sqlite3.connect(self._path, isolation_level=None)
        self._db.executescript(f"PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=FILE; "
                               f"PRAGMA cache_size=-{CACHE_KIB}; BEGIN; {_SCHEMA}")
        self._db.execute("INSERT INTO nodes (id, parent, name, path) VALUES (0, -1, '', x'')")
        self._spool: IO[bytes] = tempfile.TemporaryFile(prefix="docspasta-pages-", dir=directory)
        self._size = 0
        self._sections = 0
        self.count = 0
        self.tokens = 0
        self._finished = False
        # The nodes of the contents tree by (parent, name): every node, until LOOKUP_CACHE.
        self._nodes: dict[tuple[int, str], tuple[int, bytes]] = {}
        self._every_node_cached = True
        self._keys: dict[str, tuple[int, int]] | None = None  # key -> (pos, number), see finish
        self._node_ids = 0
        self._ranks: dict[str, int] = {}
        # Rows of the pages added since the last flush (flushed past _BATCH rows).
        self._rows_pages: list[tuple[object, ...]] = []
        self._rows_keys: list[tuple[str, int]] = []
        self._rows_anchors: list[tuple[int, str]] = []
        self._rows_links: set[tuple[str, str]] = set()
        self.target = functools.lru_cache(maxsize=LOOKUP_CACHE)(self._target)
        # Links name the same pages with other fragments: the page of a URL is cached too.
        self._position = functools.lru_cache(maxsize=LOOKUP_CACHE)(self.position)
        self._anchor = functools.lru_cache(maxsize=LOOKUP_CACHE)(self._has_anchor)

    def close(self) -> None:
        self._db.close()
        self._spool.close()
        for suffix in ("", "-journal", "-wal", "-shm"):
            try:
                os.unlink(self._path + suffix)
            except FileNotFoundError:
                pass

    def __enter__(self) -> PageIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- building ------------------------------------------------------------------

    def add(self, page: bundle.PageDoc, *, markdown: bytes | None = None) -> None:
        """One page, in crawl order (its Markdown spooled with its marks, its anchors and
        links indexed); ``markdown``: its Markdown in UTF-8, if the caller has it."""
        pos = self.count
        self.count += 1
        self.tokens += page.token_estimate
        data = page.markdown.encode("utf-8") if markdown is None else markdown
        found = bundle.marks(page.markdown)
        marks = found.dump()
        start = self._size
        self._spool.write(data)
        self._spool.write(marks)
        self._size += len(data) + len(marks)
        key = bundle._key(page.url)
        path, node = self._place(pos, page.url)
        section = self._section_rank(page.url)
        self._rows_pages.append((pos, key, page.url, page.title, page.description, page.word_count,
                                 page.token_estimate, page.depth, start, len(data), len(marks), path, section))
        self._rows_keys.append((key, pos))
        self._rows_anchors += [(pos, a) for a in found.fragments()]
        self._rows_links.update(bundle.linked_fragments(page.markdown))
        if len(self._rows_pages) + len(self._rows_anchors) + len(self._rows_links) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        """The buffered rows of the pages added since the last flush, one statement a table
        (no statement while adding reads these tables)."""
        db = self._db
        db.executemany("INSERT INTO pages (pos, key, url, title, description, word_count, tokens, depth, start,"
                       " length, marks, path, section) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", self._rows_pages)
        # The last page of a key wins: the rows go in in crawl order.
        db.executemany("INSERT OR REPLACE INTO keys (key, pos) VALUES (?, ?)", self._rows_keys)
        db.executemany("INSERT OR IGNORE INTO anchors (pos, fragment) VALUES (?, ?)", self._rows_anchors)
        db.executemany("INSERT OR IGNORE INTO links (key, fragment) VALUES (?, ?)", self._rows_links)
        self._rows_pages.clear()
        self._rows_keys.clear()
        self._rows_anchors.clear()
        self._rows_links.clear()

    def _node(self, parent: int, parent_path: bytes, name: str, *,
              page: int | None = None) -> tuple[int, bytes, bool]:
        """(id, path, whether it was created here) of the node ``name`` below ``parent``;
        a node created here is the page ``page``'s."""
        found = self._nodes.get((parent, name))
        if found is not None:
            return found[0], found[1], False
        # While every node is in the cache, a node missing from it does not exist: no query.
        # (Once a node was left out the cache is full, and it never shrinks.)
        if not self._every_node_cached:
            row = self._db.execute("SELECT id, path FROM nodes WHERE parent = ? AND name = ?",
                                   (parent, name)).fetchone()
            if row is not None:
                return row[0], row[1], False
        self._node_ids += 1
        path = parent_path + struct.pack(">I", self._node_ids)
        self._db.execute("INSERT INTO nodes (id, parent, name, path, page) VALUES (?, ?, ?, ?, ?)",
                         (self._node_ids, parent, name, path, page))
        if len(self._nodes) < LOOKUP_CACHE:
            self._nodes[(parent, name)] = (self._node_ids, path)
        else:
            self._every_node_cached = False
        return self._node_ids, path, True

    def _place(self, pos: int, url: str) -> tuple[bytes, int]:
        """The page's node in the contents tree (as ``bundle.toc_tree`` places it)."""
        ident, path, created = 0, b"", False
        segments = bundle._segments(url, self._prefix, self._start_host)
        last = len(segments) - 1
        for i, segment in enumerate(segments):
            ident, path, created = self._node(ident, path, segment, page=pos if i == last else None)
        if created:  # a new node, the page's from the start
            return path, ident
        if self._db.execute("UPDATE nodes SET page = ? WHERE id = ? AND page IS NULL", (pos, ident)).rowcount == 0:
            # Two URLs, one path (a query, an index file): a sibling entry below the node.
            ident, path, created = self._node(ident, path, f"{segments[-1] if segments else ''}#{pos}", page=pos)
            if not created:  # a URL segment that reads like one
                self._db.execute("UPDATE nodes SET page = ? WHERE id = ?", (pos, ident))
        return path, ident

    def _section_rank(self, url: str) -> int:
        """llms.txt's section of the page, as the rank of its first appearance."""
        name = section_name(url, self._prefix, self._start_host)
        rank = self._ranks.get(name)
        if rank is None:
            row = self._db.execute("SELECT rank FROM sections WHERE name = ?", (name,)).fetchone()
            if row is not None:
                rank = int(row[0])
            else:
                self._sections += 1
                rank = self._sections
                self._db.execute("INSERT INTO sections (name, rank) VALUES (?, ?)", (name, rank))
            if len(self._ranks) < LOOKUP_CACHE:
                self._ranks[name] = rank
        return rank

    def finish(self) -> None:
        """After the last page: section numbers in the contents' order."""
        self._flush()
        db = self._db
        db.execute("CREATE INDEX pages_path ON pages (path)")
        db.execute("CREATE INDEX nodes_path ON nodes (path)")
        db.execute("UPDATE pages SET number = r.n FROM (SELECT pos, row_number() OVER (ORDER BY path) AS n "
                   "FROM pages) AS r WHERE pages.pos = r.pos")
        # Pages whose key a later page took are not listed (``bundle.Bundle.by_key``).
        db.execute("UPDATE pages SET shown = 1 WHERE pos IN (SELECT pos FROM keys)")
        db.execute("UPDATE keys SET number = p.number FROM pages AS p WHERE p.pos = keys.pos")
        db.execute("COMMIT")
        self._finished = True
        self.shown, self.shown_tokens = db.execute(
            "SELECT count(*), coalesce(sum(tokens), 0) FROM pages WHERE shown"
        ).fetchone()
        # Every key (one per shown page) in memory when there are no more than a cache's
        # worth: a link's page is then found without a query.
        if self.shown <= LOOKUP_CACHE:
            self._keys = {str(k): (int(p), int(n)) for k, p, n in db.execute("SELECT key, pos, number FROM keys")}

    # -- reading ---------------------------------------------------------------------

    def _rows(self, sql: str, params: tuple[object, ...] = ()) -> Iterator[tuple[object, ...]]:
        """Rows of a query read in batches (a cursor held open across writes is not needed)."""
        cur = self._db.execute(sql, params)
        while rows := cur.fetchmany(_BATCH):
            yield from rows

    def markdown(self, pos: int) -> str:
        start, length = self._db.execute("SELECT start, length FROM pages WHERE pos = ?", (pos,)).fetchone()
        self._spool.seek(start)
        return self._spool.read(length).decode("utf-8")

    def _entry(self, row: tuple[object, ...]) -> Entry:
        return Entry(*row)  # type: ignore[arg-type]

    def entry(self, pos: int) -> Entry:
        return self._entry(self._db.execute(f"SELECT {_ENTRY} FROM pages WHERE pos = ?", (pos,)).fetchone())

    def crawl_order(self) -> Iterator[tuple[Entry, int, int]]:
        """(entry, spool start, length) of every page in crawl order."""
        for row in self._rows(f"SELECT {_ENTRY}, start, length FROM pages ORDER BY pos"):
            yield self._entry(row[:8]), int(row[8]), int(row[9])  # type: ignore[call-overload]

    def document_order(self, *, wanted: bool = False) -> Iterator[Section]:
        """Every page in the contents' order, with its Markdown and marks and the page its
        URL names (the last page of that key: the one whose section number it gets); with
        ``wanted``, that page's ``wanted`` fragments too, found by the same statement."""
        spool = self._spool
        # The fragments are joined by newlines: an anchor comes from one line of a page.
        also = ("(SELECT group_concat(l.fragment, char(10)) FROM links l JOIN anchors a ON a.fragment = l.fragment"
                " WHERE l.key = p.key AND a.pos = k.pos)" if wanted else "NULL")
        for row in self._rows(f"SELECT {', '.join('p.' + c for c in _ENTRY.split(', '))}, p.start, p.length, "
                              f"p.marks, k.pos, k.number, {also} FROM pages p JOIN keys k ON k.key = p.key "
                              "ORDER BY p.path"):
            start, length, marks, pos, number = (int(v) for v in row[8:13])  # type: ignore[call-overload]
            spool.seek(start)
            markdown = spool.read(length).decode("utf-8")
            fragments = frozenset(str(row[13]).split("\n")) if row[13] is not None else frozenset()
            yield Section(self._entry(row[:8]), markdown, bundle.Marks.load(spool.read(marks)), pos, number,
                          fragments)

    def first(self) -> Entry | None:
        row = self._db.execute(f"SELECT {_ENTRY} FROM pages ORDER BY pos LIMIT 1").fetchone()
        return self._entry(row) if row is not None else None

    def by_section(self) -> Iterator[tuple[str, Entry]]:
        """(llms.txt section, entry): sections in the order first reached, pages in crawl order."""
        for row in self._rows(f"SELECT s.name, {', '.join('p.' + c for c in _ENTRY.split(', '))} FROM pages p "
                              "JOIN sections s ON s.rank = p.section ORDER BY p.section, p.pos"):
            yield str(row[0]), self._entry(row[1:])

    def position(self, url: str) -> tuple[int, int] | None:
        """(position, section number) of the page a URL names, None when not indexed."""
        if self._keys is not None:
            return self._keys.get(bundle._key(url))
        row = self._db.execute("SELECT pos, number FROM keys WHERE key = ?", (bundle._key(url),)).fetchone()
        return (int(row[0]), int(row[1])) if row is not None else None

    def _has_anchor(self, pos: int, fragment: str) -> bool:
        return self._db.execute("SELECT 1 FROM anchors WHERE pos = ? AND fragment = ?",
                                (pos, fragment)).fetchone() is not None

    def _target(self, url: str) -> tuple[int, str] | None:
        """As ``bundle.Bundle.target``: (position, anchor id) a link points at."""
        base, _, fragment = url.partition("#")
        found = self._position(base)
        if found is None:
            return None
        position, number = found
        fragment = unquote(fragment).lower()
        if fragment and self._anchor(position, fragment):
            return position, bundle._fragment_id(number, fragment)
        return position, bundle.anchor(number)

    # -- the table of contents -----------------------------------------------------

    def toc_lines(self) -> Iterator[str]:
        """``bundle.toc_lines`` for the shown pages, one line at a time."""
        ancestors: list[tuple[bytes, int]] = []  # (node path, depth of its children)
        skip: bytes | None = None
        query = (f"SELECT n.path, n.name, coalesce(p.shown, 0), "
                 f"{', '.join('p.' + c for c in _ENTRY.split(', '))} "
                 "FROM nodes n LEFT JOIN pages p ON p.pos = n.page ORDER BY n.path")
        for row in self._rows(query):
            path, name, shown = bytes(row[0]), str(row[1]), bool(row[2])  # type: ignore[call-overload]
            if skip is not None and path.startswith(skip):
                continue
            skip = None
            while ancestors and not path.startswith(ancestors[-1][0]):
                ancestors.pop()
            depth = ancestors[-1][1] if ancestors else 0
            if shown:
                yield _page_line(self._entry(row[3:]), depth)
                ancestors.append((path, depth + 1))
            elif name:
                count, tokens, last = self._db.execute(
                    "SELECT count(*), coalesce(sum(tokens), 0), max(pos) FROM pages WHERE path >= ? AND path < ? "
                    "AND shown", (path, path + b"\xff")).fetchone()
                if count <= 1:
                    if count == 1:
                        yield _page_line(self.entry(int(last)), depth)
                    skip = path
                    continue
                yield f"{'  ' * depth}- {bundle._escape(name)}/ · {count} pages, {bundle._count(tokens)} tokens"
                ancestors.append((path, depth + 1))
            else:
                ancestors.append((path, depth))


def _page_line(entry: Entry, depth: int) -> str:
    return (f"{'  ' * depth}- [{bundle._escape(entry.title or entry.url)}](#{bundle.anchor(entry.number)}) · "
            f"{bundle._count(entry.tokens)} tokens")
