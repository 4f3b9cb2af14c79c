"""Streaming export builders: lists as CSV / JSON, graphs as JSON, CSV, GEXF and GraphML.

Every builder is a generator of ``str`` chunks, so a view can hand it to
``flask.Response(stream_with_context(...))`` without building the whole file in memory.

Graph builders take the node-link dict stored by :func:`app.analysis.graph.analyse_graphs`
(``{"nodes": [{"id", "label", "me", "community", "pagerank", "size"}], "links":
[{"source", "target"}]}``). Graph CSV is one file with a ``kind`` column (:func:`graph_csv`):
``node`` rows fill ``id,label,me,community,pagerank,size``, ``edge`` rows fill
``source,target``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from app.networks.base import Post

FOLLOWER_COLUMNS = [
    "handle",
    "name",
    "followers_count",
    "following_count",
    "my_followers_they_follow",
    "follows_back",
    "community",
]
FRIEND_COLUMNS = [
    "handle",
    "name",
    "followers_count",
    "following_count",
    "common_friends",
    "follows_back",
    "community",
]
POST_COLUMNS = [
    "id",
    "created_at",
    "kind",
    "text",
    "url",
    "reply_count",
    "like_count",
    "repost_count",
    "sentiment_label",
    "sentiment_score",
]
NODE_COLUMNS = ["id", "label", "me", "community", "pagerank", "size"]
EDGE_COLUMNS = ["source", "target"]
GRAPH_CSV_COLUMNS = ["kind", *NODE_COLUMNS, *EDGE_COLUMNS]

#: Rows written per yielded chunk.
CHUNK_ROWS = 500
#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
#: The signs a spreadsheet starts a formula with, compared after NFKC folding, so the
#: full-width (U+FF1D, U+FF0B, U+FF0D, U+FF20) and small (U+FE66, U+FE62, U+FE63, U+FE6B)
#: forms count too.
_FORMULA_SIGNS = frozenset("=+-@")
#: Characters XML 1.0 does not allow at all, even escaped.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def csv_cell(value: Any) -> Any:
    """Make one value safe and plain for a CSV cell.

    Strings that :func:`looks_like_formula` (``= + - @``, tab, CR or LF first, or a formula
    sign after leading spaces, in any width) get a leading ``'`` so spreadsheets show them
    as text; numbers are left as numbers (a negative ``int`` is not escaped). ``None``
    becomes an empty cell, booleans ``true``/``false``, lists and dicts JSON.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | dict | tuple):
        value = json.dumps(value, ensure_ascii=False)
    text = str(value)
    if looks_like_formula(text):
        return "'" + text
    return text


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet may read ``text`` as a formula.

    True for text starting with one of :data:`FORMULA_START`, and for text whose first
    visible character is a formula sign in any width (full-width ``U+FF1D`` too) after leading
    whitespace (spaces, NBSP and the other Unicode spaces, line breaks) and invisible
    characters (zero-width space, byte order mark, controls), which spreadsheets skip.
    """
    if not text:
        return False
    first = text[0]
    if first.isascii() and first.isalnum():  # the common case: a letter or digit first
        return False
    if text.startswith(FORMULA_START):
        return True
    for char in text:
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cf"):
            continue
        return unicodedata.normalize("NFKC", char) in _FORMULA_SIGNS
    return False


def csv_stream(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> Iterator[str]:
    """Stream rows as CSV with a header line, in chunks of :data:`CHUNK_ROWS` rows.

    :param rows: mappings; keys not in ``columns`` are ignored, missing ones are empty.
    :param columns: the header and column order.
    :returns: an iterator of CSV text chunks (``\\r\\n`` line ends, RFC 4180).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for count, row in enumerate(rows, 1):
        writer.writerow([csv_cell(row.get(column)) for column in columns])
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def text_cell(value: str | None) -> str | None:
    """A text cell made safe as :func:`csv_cell` makes it (``None`` stays ``None``, which
    :mod:`csv` writes as an empty cell)."""
    if value is None or not looks_like_formula(value):
        return value
    return "'" + value


def csv_rows_stream(rows: Iterable[Sequence[Any]], columns: Sequence[str]) -> Iterator[str]:
    """Like :func:`csv_stream` for rows that are already sequences of safe cells in
    ``columns``' order (text through :func:`text_cell`, booleans as ``true``/``false``):
    written a chunk of :data:`CHUNK_ROWS` rows at a time, with no work per cell here."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    batch: list[Sequence[Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK_ROWS:
            writer.writerows(batch)
            batch.clear()
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    writer.writerows(batch)
    yield buffer.getvalue()


#: One encoder for every row (``json.dumps`` with options builds a new one per call).
_encode = json.JSONEncoder(ensure_ascii=False).encode


def json_stream(rows: Iterable[Any]) -> Iterator[str]:
    """Stream a JSON array of ``rows`` (each JSON-serialisable), a chunk per 500 rows.

    :returns: an iterator of text chunks that join to one JSON array.
    """
    parts = ["["]
    first = True
    for row in rows:
        parts.append(("\n" if first else ",\n") + _encode(row))
        first = False
        if len(parts) >= CHUNK_ROWS:
            yield "".join(parts)
            parts = []
    parts.append("\n]\n")
    yield "".join(parts)


def post_rows(
    posts: Iterable[Post] | Iterable[Any], sentiment: Mapping[str, Sequence[Any]] | None = None
) -> Iterator[dict[str, Any]]:
    """Rows of :data:`POST_COLUMNS`.

    :param posts: the posts, in the order to export: :class:`~app.networks.base.Post` records,
        or stored rows that carry ``sentiment_label`` and ``sentiment_score`` themselves.
    :param sentiment: ``per_post`` from :func:`~app.analysis.sentiment.analyse_sentiment`
        (``{id: (label, score)}``); posts missing from it get empty sentiment cells.
    """
    for post in posts:
        found: Sequence[Any]
        if sentiment is None:
            found = (getattr(post, "sentiment_label", None), getattr(post, "sentiment_score", None))
        else:
            found = sentiment.get(post.external_id) or (None, None)
        yield {
            "id": post.external_id,
            "created_at": post.created_at.isoformat(),
            "kind": post.kind,
            "text": post.text,
            "url": post.url,
            "reply_count": post.reply_count,
            "like_count": post.like_count,
            "repost_count": post.repost_count,
            "sentiment_label": found[0],
            "sentiment_score": found[1],
        }


def _node(node: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": str(node["id"]),
        "label": node.get("label", str(node["id"])),
        "me": bool(node.get("me", False)),
        "community": node.get("community"),
        "pagerank": node.get("pagerank"),
        "size": node.get("size"),
    }


def graph_json(graph: Mapping[str, Any]) -> Iterator[str]:
    """Stream a node-link JSON document ``{"nodes": [...], "links": [...]}``.

    Node ids are strings; the account owner has ``"me": true``.
    """
    yield '{"nodes": '
    yield from json_stream(_node(n) for n in graph.get("nodes", ()))
    yield ', "links": '
    yield from json_stream(
        {"source": str(e["source"]), "target": str(e["target"])} for e in graph.get("links", ())
    )
    yield "}\n"


def graph_csv(graph: Mapping[str, Any]) -> Iterator[str]:
    """Stream nodes then edges in one CSV with :data:`GRAPH_CSV_COLUMNS` (``kind`` first)."""

    def rows() -> Iterator[dict[str, Any]]:
        for node in graph.get("nodes", ()):
            yield {"kind": "node", **_node(node)}
        for edge in graph.get("links", ()):
            yield {"kind": "edge", "source": edge["source"], "target": edge["target"]}

    return csv_stream(rows(), GRAPH_CSV_COLUMNS)


def _xml_text(value: Any) -> str:
    return escape(_XML_INVALID.sub("", str(value)))


def _xml_attr(value: Any) -> str:
    return quoteattr(_XML_INVALID.sub("", str(value)), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _chunked(lines: Iterable[str]) -> Iterator[str]:
    parts: list[str] = []
    for line in lines:
        parts.append(line)
        if len(parts) >= CHUNK_ROWS:
            yield "".join(parts)
            parts = []
    if parts:
        yield "".join(parts)


def gexf_stream(graph: Mapping[str, Any], creator: str = "MD Analytics") -> Iterator[str]:
    """Stream a GEXF 1.3 document (directed) for Gephi.

    Node attributes: ``me`` (boolean), ``community`` (integer), ``pagerank`` (double);
    ``size`` goes to ``viz:size``.
    """

    def lines() -> Iterator[str]:
        yield '<?xml version="1.0" encoding="UTF-8"?>\n'
        yield (
            '<gexf xmlns="http://gexf.net/1.3" xmlns:viz="http://gexf.net/1.3/viz" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd" '
            'version="1.3">\n'
        )
        yield f"  <meta><creator>{_xml_text(creator)}</creator></meta>\n"
        yield '  <graph defaultedgetype="directed" mode="static">\n'
        yield '    <attributes class="node" mode="static">\n'
        yield '      <attribute id="0" title="me" type="boolean"/>\n'
        yield '      <attribute id="1" title="community" type="integer"/>\n'
        yield '      <attribute id="2" title="pagerank" type="double"/>\n'
        yield "    </attributes>\n    <nodes>\n"
        for raw in graph.get("nodes", ()):
            node = _node(raw)
            values = [f'<attvalue for="0" value="{"true" if node["me"] else "false"}"/>']
            if node["community"] is not None:
                values.append(f'<attvalue for="1" value="{int(node["community"])}"/>')
            if node["pagerank"] is not None:
                values.append(f'<attvalue for="2" value="{float(node["pagerank"])!r}"/>')
            size = ""
            if node["size"] is not None:
                size = f'<viz:size value="{float(node["size"])!r}"/>'
            yield (
                f"      <node id={_xml_attr(node['id'])} label={_xml_attr(node['label'])}>"
                f"<attvalues>{''.join(values)}</attvalues>{size}</node>\n"
            )
        yield "    </nodes>\n    <edges>\n"
        for number, edge in enumerate(graph.get("links", ())):
            yield (
                f'      <edge id="{number}" source={_xml_attr(edge["source"])} '
                f"target={_xml_attr(edge['target'])}/>\n"
            )
        yield "    </edges>\n  </graph>\n</gexf>\n"

    return _chunked(lines())


def graphml_stream(graph: Mapping[str, Any]) -> Iterator[str]:
    """Stream a GraphML document (directed) with node keys ``label``, ``me``,
    ``community``, ``pagerank`` and ``size``."""

    def lines() -> Iterator[str]:
        yield '<?xml version="1.0" encoding="UTF-8"?>\n'
        yield (
            '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
            'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
        )
        yield '  <key id="label" for="node" attr.name="label" attr.type="string"/>\n'
        yield '  <key id="me" for="node" attr.name="me" attr.type="boolean"/>\n'
        yield '  <key id="community" for="node" attr.name="community" attr.type="int"/>\n'
        yield '  <key id="pagerank" for="node" attr.name="pagerank" attr.type="double"/>\n'
        yield '  <key id="size" for="node" attr.name="size" attr.type="double"/>\n'
        yield '  <graph id="G" edgedefault="directed">\n'
        for raw in graph.get("nodes", ()):
            node = _node(raw)
            data = [
                f'<data key="label">{_xml_text(node["label"])}</data>',
                f'<data key="me">{"true" if node["me"] else "false"}</data>',
            ]
            if node["community"] is not None:
                data.append(f'<data key="community">{int(node["community"])}</data>')
            for key in ("pagerank", "size"):
                if node[key] is not None:
                    data.append(f'<data key="{key}">{float(node[key])!r}</data>')
            yield f"    <node id={_xml_attr(node['id'])}>{''.join(data)}</node>\n"
        for edge in graph.get("links", ()):
            yield (
                f"    <edge source={_xml_attr(edge['source'])} "
                f"target={_xml_attr(edge['target'])}/>\n"
            )
        yield "  </graph>\n</graphml>\n"

    return _chunked(lines())
