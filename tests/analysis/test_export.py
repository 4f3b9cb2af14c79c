import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import networkx as nx
import pytest

from app.analysis import export
from app.analysis.export import (
    GRAPH_CSV_COLUMNS,
    POST_COLUMNS,
    csv_cell,
    csv_stream,
    gexf_stream,
    graph_csv,
    graph_json,
    graphml_stream,
    json_stream,
    post_rows,
)
from app.analysis.graph import analyse_graphs
from app.networks.base import AccountData, Follow, Person, Post

GRAPH = {
    "nodes": [
        {"id": "me", "label": "@owner", "me": True, "community": -1, "pagerank": 0.5, "size": 20.0},
        {
            "id": "1",
            "label": "@a<b>&\"c'",
            "me": False,
            "community": 0,
            "pagerank": 0.25,
            "size": 4.5,
        },
        {
            "id": "x\x01y",
            "label": "@=cmd|' /C calc'!A0",
            "me": False,
            "community": None,
            "pagerank": None,
            "size": None,
        },
    ],
    "links": [{"source": "1", "target": "me"}, {"source": "x\x01y", "target": "1"}],
}


def read_csv(chunks) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(chunks))))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        (-5, -5),
        (-1.5, -1.5),
        (None, ""),
        (True, "true"),
        (False, "false"),
        (["a"], '["a"]'),
        (datetime(2025, 1, 1, tzinfo=UTC), "2025-01-01T00:00:00+00:00"),
    ],
)
def test_csv_cell(value, expected) -> None:
    assert csv_cell(value) == expected


@pytest.mark.parametrize(
    "text",
    [
        " =1+2",  # leading space
        "   +1",
        "\t=cmd",
        "\t plain",  # a leading tab is escaped whatever follows (OWASP)
        '\n=HYPERLINK("https://evil.example")',  # leading LF
        "\r\n@SUM(A1)",
        "\u00a0=1+2",  # NBSP
        "\u2003\u3000-1",  # em space, ideographic space
        "\u200b=1",  # zero-width space
        "\ufeff=1",  # byte order mark
        "\x0b=1",  # vertical tab
        "\uff1d1+2",  # full-width =
        "\uff0bcmd",  # full-width +
        "\uff0d1",  # full-width -
        "\uff20SUM(A1)",  # full-width @
        " \u00a0\uff1dcmd|' /C calc'!A0",
        "\ufe66cmd",  # small =
    ],
)
def test_csv_cell_escapes_formulas_behind_spaces_and_in_any_width(text) -> None:
    assert csv_cell(text) == "'" + text
    assert export.text_cell(text) == "'" + text
    assert read_csv(csv_stream([{"c": text}], ["c"]))[1] == ["'" + text]


@pytest.mark.parametrize(
    "text", ["  plain", "\u00a0text", "a=b", "x-1", "mail@example.org", "\uff21BC", "", "   "]
)
def test_csv_cell_leaves_text_that_is_not_a_formula(text) -> None:
    assert csv_cell(text) == text
    assert export.text_cell(text) == text


def test_rows_of_safe_cells_write_as_csv_stream_writes_mappings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(export, "CHUNK_ROWS", 2)
    columns = ["handle", "name", "n", "back"]
    rows = [
        ("ana", 'Ana "A", Lee\nnew line', 3, True),
        ("=HYPERLINK(1)", None, -4, False),
        ("bob", "\uff0bcmd", None, True),
    ]
    cells = [
        (export.text_cell(h), export.text_cell(n), c, "true" if b else "false")
        for h, n, c, b in rows
    ]
    chunks = list(export.csv_rows_stream(cells, columns))
    assert len(chunks) == 2
    mappings = [dict(zip(columns, row, strict=True)) for row in rows]
    assert read_csv(chunks) == read_csv(csv_stream(mappings, columns))
    assert read_csv(chunks)[2] == ["'=HYPERLINK(1)", "", "-4", "false"]
    assert export.text_cell(None) is None


def test_csv_round_trip_and_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "CHUNK_ROWS", 2)
    rows = [
        {"handle": "ana", "name": 'Ana "A", Lee\nnew line', "n": 3},
        {"handle": "=HYPERLINK(1)", "name": None, "n": -4},
        {"handle": "bob", "name": "Bob", "n": 0, "ignored": "x"},
    ]
    chunks = list(csv_stream(rows, ["handle", "name", "n"]))
    assert len(chunks) == 2
    assert read_csv(chunks) == [
        ["handle", "name", "n"],
        ["ana", 'Ana "A", Lee\nnew line', "3"],
        ["'=HYPERLINK(1)", "", "-4"],
        ["bob", "Bob", "0"],
    ]


def test_json_stream_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "CHUNK_ROWS", 2)
    rows = [{"a": i, "t": 'é\n"q"'} for i in range(5)]
    chunks = list(json_stream(rows))
    assert len(chunks) > 1
    assert json.loads("".join(chunks)) == rows
    assert json.loads("".join(json_stream([]))) == []


@pytest.fixture
def graphs() -> dict:
    data = AccountData(
        owner=Person("me", "owner"),
        people={
            "b": Person("b", "bob", name="Bob", followers_count=3, following_count=1),
            "a": Person("a", "ana", name="=Ana", followers_count=-1),
        },
        followers=["a", "b"],
        friends=["b"],
        follows={Follow("a", "b")},
        lists_fetched={"a", "b"},
    )
    return analyse_graphs(data)


def test_post_rows() -> None:
    posts = [
        Post("1", datetime(2025, 1, 2, 3, 4, tzinfo=UTC), "-bad", url="u", like_count=2),
        Post("2", datetime(2025, 1, 3, tzinfo=UTC), "hi"),
    ]
    rows = list(post_rows(posts, {"1": ("negative", -0.5)}))
    assert list(rows[0]) == POST_COLUMNS
    assert rows[0]["sentiment_label"] == "negative" and rows[0]["sentiment_score"] == -0.5
    assert rows[1]["sentiment_label"] is None
    parsed = read_csv(csv_stream(rows, POST_COLUMNS))
    assert parsed[1] == [
        "1",
        "2025-01-02T03:04:00+00:00",
        "post",
        "'-bad",
        "u",
        "",
        "2",
        "",
        "negative",
        "-0.5",
    ]
    assert next(post_rows(posts))["sentiment_score"] is None


def test_graph_json() -> None:
    doc = json.loads("".join(graph_json(GRAPH)))
    assert [n["id"] for n in doc["nodes"]] == ["me", "1", "x\x01y"]
    assert doc["nodes"][0]["me"] is True and doc["nodes"][1]["me"] is False
    assert doc["links"] == GRAPH["links"]
    numeric = json.loads(
        "".join(graph_json({"nodes": [{"id": 7}], "links": [{"source": 7, "target": 7}]}))
    )
    assert numeric == {
        "nodes": [
            {
                "id": "7",
                "label": "7",
                "me": False,
                "community": None,
                "pagerank": None,
                "size": None,
            }
        ],
        "links": [{"source": "7", "target": "7"}],
    }


def test_graph_csvs() -> None:
    combined = read_csv(graph_csv(GRAPH))
    assert combined[0] == GRAPH_CSV_COLUMNS
    assert combined[1] == ["node", "me", "'@owner", "true", "-1", "0.5", "20.0", "", ""]
    assert combined[3][2] == "'@=cmd|' /C calc'!A0"
    assert [row[-2:] for row in combined[4:]] == [["1", "me"], ["x\x01y", "1"]]
    assert [row[0] for row in combined[1:]] == ["node"] * 3 + ["edge"] * 2
    assert combined[-1] == ["edge", "", "", "", "", "", "", "x\x01y", "1"]


def test_gexf_parses(tmp_path) -> None:
    text = "".join(gexf_stream(GRAPH))
    root = ET.fromstring(text)
    assert root.tag == "{http://gexf.net/1.3}gexf"
    path = tmp_path / "g.gexf"
    path.write_text(text, encoding="utf-8")
    graph = nx.read_gexf(path, version="1.3")
    assert set(graph.nodes) == {"me", "1", "xy"}  # control characters are not valid XML
    assert set(graph.edges) == {("1", "me"), ("xy", "1")}
    assert graph.nodes["1"]["label"] == "@a<b>&\"c'"
    assert graph.nodes["me"]["me"] is True
    assert graph.nodes["1"]["community"] == 0
    assert graph.nodes["1"]["pagerank"] == 0.25
    assert graph.nodes["1"]["viz"]["size"] == 4.5


def test_graphml_parses(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "CHUNK_ROWS", 3)
    chunks = list(graphml_stream(GRAPH))
    assert len(chunks) > 1
    text = "".join(chunks)
    ET.fromstring(text)
    path = tmp_path / "g.graphml"
    path.write_text(text, encoding="utf-8")
    graph = nx.read_graphml(path)
    assert graph.is_directed()
    assert set(graph.nodes) == {"me", "1", "xy"}
    assert set(graph.edges) == {("1", "me"), ("xy", "1")}
    assert graph.nodes["1"] == {
        "label": "@a<b>&\"c'",
        "me": False,
        "community": 0,
        "pagerank": 0.25,
        "size": 4.5,
    }
    assert graph.nodes["xy"] == {"label": "@=cmd|' /C calc'!A0", "me": False}
