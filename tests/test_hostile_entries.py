"""Hostile entries against a live server (`clkg serve` on the miniature graph): POST /api/validate and
POST /api/entries with bodies built to crash, stall or exhaust it. Every case asserts the status and the
message, that `ASK {}` answers within 1 s while the request runs and after, and that the store is unchanged
(nothing half-written).
"""
from __future__ import annotations

import http.client
import json
import random
import socket
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import HOSTILE_TOKEN, assert_alive, store_digest

STUDY = "https://w3id.org/clkg/study/x-2000"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
HEAD = "@prefix clo: <https://w3id.org/clkg/ontology/> . @prefix dcterms: <http://purl.org/dc/terms/> .\n"
ENDPOINTS = ["/api/validate", "/api/entries"]


@pytest.fixture(scope="module")
def server(hostile_server):
    return hostile_server, store_digest(hostile_server)


def post(base: str, path: str, body: bytes, content_type: str, timeout: float = 60) -> tuple[int, dict, dict]:
    """POST a body (with the write token on /api/entries); (status, JSON body, headers)."""
    parts = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    headers = {"Content-Type": content_type, "Accept": "application/json"}
    if path == "/api/entries":
        headers["Authorization"] = f"Bearer {HOSTILE_TOKEN}"
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else {}, dict(response.getheaders())
    finally:
        connection.close()


def hostile(server, path: str, body: bytes, content_type: str) -> tuple[int, dict, dict]:
    """Send one hostile request in a thread; the server answers ASK {} within 1 s while it runs and after,
    and its store is unchanged."""
    base, digest = server
    answer: dict = {}

    def send():
        try:
            answer["reply"] = post(base, path, body, content_type)
        except BaseException as error:  # noqa: BLE001 - reported below
            answer["error"] = error

    thread = threading.Thread(target=send)
    thread.start()
    assert_alive(base)
    while thread.is_alive():
        assert_alive(base)
        thread.join(0.2)
    assert "error" not in answer, answer.get("error")
    assert_alive(base)
    assert store_digest(base) == digest, "the store changed"
    return answer["reply"]


def refused(server, path, body, content_type, status: int, fragment: str) -> dict:
    code, reply, headers = hostile(server, path, body, content_type)
    assert code == status, (code, reply)
    assert fragment in reply["error"], reply["error"]
    assert reply["status"] == status
    return headers


# --- bodies ------------------------------------------------------------------------------------------------
def nested_json(depth: int) -> bytes:
    return (f'{{"@id": "{STUDY}", "http://purl.org/dc/terms/title": ' + '{"http://purl.org/dc/terms/title": ' * depth
            + '"t"' + "}" * depth + "}").encode()


def nested_turtle(depth: int, opening: str, closing: str) -> bytes:
    return (HEAD + f"<{STUDY}> a clo:Study ; dcterms:title " + opening * depth + "1" + closing * depth + " .").encode()


def nested_xml(depth: int) -> bytes:
    return (f'<?xml version="1.0"?><rdf:RDF xmlns:rdf="{RDF_NS}" xmlns:dcterms="http://purl.org/dc/terms/">'
            f'<rdf:Description rdf:about="{STUDY}">' + "<dcterms:title><rdf:Description>" * depth
            + "</rdf:Description></dcterms:title>" * depth + "</rdf:Description></rdf:RDF>").encode()


def xml_with_doctype(subset: str) -> bytes:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [{subset}]>\n<rdf:RDF xmlns:rdf="{RDF_NS}" '
            f'xmlns:dcterms="http://purl.org/dc/terms/"><rdf:Description rdf:about="{STUDY}"><dcterms:title>'
            f"&e;</dcterms:title></rdf:Description></rdf:RDF>").encode()


def billion_laughs(levels: int) -> bytes:
    entities = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, levels + 1)]
    return xml_with_doctype("".join(entities) + f'<!ENTITY e "&l{levels};">')


# --- the cases ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("depth", [10, 100, 1_000, 5_000, 10_000])
def test_json_ld_nested_deep(server, path, depth):
    if depth <= 50:  # within the limit: read and validated (not a valid study: refused with a report)
        code, reply, _ = hostile(server, path, nested_json(depth), "application/ld+json")
        assert code == (200 if path == "/api/validate" else 422) and reply["conforms"] is False
        return
    if depth < 104:  # JSON within its nesting limit, the graph beyond its own
        refused(server, path, nested_json(depth), "application/ld+json", 400, f"nests blank nodes {depth} deep")
        return
    refused(server, path, nested_json(depth), "application/ld+json", 400, "JSON-LD entry is nested")


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("brackets", [("[ dcterms:title ", " ]"), ("( ", " )")], ids=["blank-nodes", "collections"])
@pytest.mark.parametrize("depth", [10, 100, 1_000, 10_000])
def test_turtle_nested_deep(server, path, brackets, depth):
    body = nested_turtle(depth, *brackets)
    if depth <= 50:
        code, reply, _ = hostile(server, path, body, "text/turtle")
        assert code == (200 if path == "/api/validate" else 422) and reply["conforms"] is False
    elif depth * (2 if brackets[0] == "( " else 1) > 5_000:
        refused(server, path, body, "text/turtle", 413, "more than 5000 triples")
    else:
        refused(server, path, body, "text/turtle", 400, f"nests blank nodes {depth} deep")


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("depth", [200, 5_000, 30_000])
def test_rdf_xml_elements_nested_deep(server, path, depth):
    refused(server, path, nested_xml(depth), "application/rdf+xml", 400, "nests elements more than")


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("levels", range(3, 10))
def test_billion_laughs(server, path, levels):
    refused(server, path, billion_laughs(levels), "application/rdf+xml", 400, "declares a document type")


@pytest.fixture()
def listener():
    """A loopback listener that records every connection made to it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.2)
    seen, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                connection, _ = sock.accept()
                seen.append(connection.recv(1024))
                connection.close()
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield sock.getsockname()[1], seen
    stop.set()
    thread.join()
    sock.close()


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("spelling", [
    '<!ENTITY e SYSTEM "http://127.0.0.1:{port}/entity">',
    '<!ENTITY e PUBLIC "-//x//y" "http://127.0.0.1:{port}/public">',
    '<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/parameter.dtd"> %p;',
    '<!ENTITY % p "<!ENTITY e SYSTEM \'http://127.0.0.1:{port}/nested\'>"> %p;',
    '<!ENTITY e SYSTEM "file:///etc/passwd">',
], ids=["system", "public", "parameter", "parameter-nested", "file"])
def test_external_and_parameter_entities(server, listener, path, spelling):
    port, seen = listener
    refused(server, path, xml_with_doctype(spelling.format(port=port)), "application/rdf+xml", 400,
            "declares a document type")
    time.sleep(0.3)
    assert seen == [], "the server fetched an external entity"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_external_dtd(server, listener, path):
    port, seen = listener
    body = f'<?xml version="1.0"?><!DOCTYPE rdf:RDF SYSTEM "http://127.0.0.1:{port}/x.dtd"><rdf:RDF xmlns:rdf="{RDF_NS}"/>'
    refused(server, path, body.encode(), "application/rdf+xml", 400, "declares a document type")
    assert seen == []


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("count", [5_001, 60_000])
def test_too_many_triples(server, path, count):
    body = (HEAD + f"<{STUDY}> <http://x/p> " + ", ".join(str(i) for i in range(count)) + " .").encode()
    refused(server, path, body, "text/turtle", 413, "more than 5000 triples")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_body_over_the_limit(server, path):
    body = (HEAD + "# " + "x" * (2 * 1024 * 1024) + "\n").encode()
    refused(server, path, body, "text/turtle", 413, "larger than the limit of 2097152 bytes")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_charset_other_than_utf8(server, path):
    body = (HEAD + f'<{STUDY}> dcterms:title "x" .').encode("utf-16")
    refused(server, path, body, "text/turtle; charset=utf-16", 415, "UTF-8")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_latin1_bytes_said_to_be_utf8(server, path):
    body = (HEAD + f'<{STUDY}> dcterms:title "café" .').encode("latin-1")
    refused(server, path, body, "text/turtle; charset=utf-8", 400, "not UTF-8: the byte 0xe9")


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("content_type", ["text/turtle", "application/ld+json", "application/rdf+xml",
                                          "application/n-triples"])
def test_garbage_binary(server, path, content_type):
    body = random.Random(11).randbytes(200_000)
    refused(server, path, body, content_type, 400, "not UTF-8")
    text = bytes(random.Random(12).choice(b"{[(<@_:\"'. ;,>)]}\\#^") for _ in range(50_000))
    code, reply, _ = hostile(server, path, text, content_type)
    assert code == 400 and "entry" in reply["error"], reply


def test_eight_deep_or_slow_entries_at_once_do_not_block_light_requests(server):
    """Eight heavy entries in parallel (at the depth limit, thousands of triples, deep JSON-LD): each
    answered for itself (a report, a refusal, or 503 when every worker is busy), none blocks ASK {}."""
    base, digest = server
    many = (HEAD + f"<{STUDY}> a clo:Study ; <http://x/p> "
            + ", ".join(f"[ <http://x/q> {i} ]" for i in range(2_000)) + " .").encode()
    bodies = [(nested_turtle(50, "[ dcterms:title ", " ]"), "text/turtle"), (many, "text/turtle"),
              (nested_json(5_000), "application/ld+json"), (billion_laughs(9), "application/rdf+xml")] * 2
    paths = ENDPOINTS * 4
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(post, base, path, body, kind, 120) for path, (body, kind) in zip(paths, bodies)]
        while not all(f.done() for f in futures):
            assert_alive(base)
            time.sleep(0.2)
        replies = [f.result() for f in futures]
    for (code, reply, headers), (body, kind) in zip(replies, bodies):
        assert code in (200, 400, 413, 422, 503), (code, reply)
        if code == 503:
            assert headers.get("Retry-After") or "time limit" in reply["error"] or "limit of" in reply["error"]
    assert {code for code, _, _ in replies} & {200, 422}, "some heavy entry was validated"
    assert_alive(base)
    assert store_digest(base) == digest
