"""Pool starvation, against a real `clkg serve` (gunicorn): one client's heavy queries leave room for the
others, a full server refuses at once (503 + Retry-After) instead of letting requests wait without end, the
time limit counts from a request's arrival, and a query whose client has gone away is stopped (under
gunicorn and under werkzeug's server). After each test the server answers `ASK {}` within 1 s and its
store is unchanged. Clients are told apart by their loopback source address (127.0.0.x)."""
from __future__ import annotations

import http.client
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import pytest

from conftest import DEV_SERVER_COMMAND, assert_alive, mini_server, store_digest

# pinned, so that what the tests expect does not depend on the machine's CPUs: 2 workers, one query at once
# per client, 4 requests waiting in all, 2 per client; no answer cache, so that every `ASK {}` needs a worker
# queries never turn long before the time limit here (CLKG_QUERY_LONG_AFTER), and one long or spare
# worker at most: 3 workers in all, so that a few requests fill the server (tests/test_query_pool.py
# tests long queries stepping aside)
HOSTILE_SERVER_ENV = {"CLKG_QUERY_WORKERS": "2", "CLKG_QUERY_PER_CLIENT": "1", "CLKG_QUERY_QUEUE": "4",
                      "CLKG_QUERY_QUEUE_PER_CLIENT": "2", "CLKG_CACHE_MB": "0", "CLKG_QUERY_LONG_AFTER": "3",
                      "CLKG_QUERY_LONG_WORKERS": "1"}
TIME_LIMIT = 3.0  # the hostile server's CLKG_QUERY_TIMEOUT
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str
    elapsed: float


def get(base: str, query: str, source: str = "127.0.0.1", headers: dict | None = None) -> Answer:
    """GET /sparql?query= from the loopback address `source` (one client per address)."""
    url = urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30, source_address=(source, 0))
    started = time.monotonic()
    try:
        connection.request("GET", "/sparql?" + urlencode({"query": query}),
                           headers={"Accept": "application/sparql-results+json", **(headers or {})})
        response = connection.getresponse()
        body = response.read().decode()
        return Answer(response.status, response.headers, body, time.monotonic() - started)
    finally:
        connection.close()


def send_and_keep_open(base: str, query: str, source: str) -> socket.socket:
    """A client that sends a query and does not read the answer (close the socket to go away)."""
    url = urlsplit(base)
    client = socket.create_connection((url.hostname, url.port), timeout=10, source_address=(source, 0))
    client.sendall(f"GET /sparql?{urlencode({'query': query})} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                   "Accept: application/sparql-results+json\r\n\r\n".encode())
    return client


def retry_after(answer: Answer) -> int:
    return int(answer.headers["Retry-After"])


@pytest.fixture(scope="module")
def digest(hostile_server) -> str:
    return store_digest(hostile_server)


@pytest.fixture(autouse=True)
def alive_and_unchanged_after(hostile_server, digest):
    yield
    assert_alive(hostile_server)
    assert store_digest(hostile_server) == digest


def test_heavy_queries_from_one_client_leave_room_for_another(hostile_server):
    with ThreadPoolExecutor(8) as threads:
        heavy = [threads.submit(get, hostile_server, HEAVY, "127.0.0.2") for _ in range(8)]
        time.sleep(0.5)  # all eight are in: one runs, two wait, five are refused
        checks = 0
        while not all(future.done() for future in heavy):
            assert_alive(hostile_server)  # another client (127.0.0.1), during
            checks += 1
            time.sleep(0.2)
        answers = [future.result() for future in heavy]
    assert checks >= 5
    refused = [a for a in answers if a.status == 429]
    assert len(refused) == 5, [a.status for a in answers]
    assert all(retry_after(a) >= 1 and "Too many queries from your address" in a.body for a in refused)
    assert all(a.elapsed < 1 for a in refused), "a refusal must not wait"
    assert sorted(a.status for a in answers if a not in refused) == [503, 503, 503]
    assert all(a.elapsed < TIME_LIMIT + 1 for a in answers)


def test_forwarded_for_is_not_believed_by_default(hostile_server):
    """Four heavy queries from one address, each claiming another client in X-Forwarded-For: one client."""
    with ThreadPoolExecutor(4) as threads:
        answers = list(threads.map(lambda n: get(hostile_server, HEAVY, "127.0.0.3", {"X-Forwarded-For": f"10.9.9.{n}"}),
                                   range(4)))
    assert sorted(a.status for a in answers) == [429, 503, 503, 503]


def test_a_full_server_refuses_at_once_with_retry_after(hostile_server):
    fillers = [f"127.0.0.{n}" for n in range(10, 18)]  # 3 running + 4 waiting (+ 1 over): every worker and the queue
    with ThreadPoolExecutor(len(fillers) + 2) as threads:
        filling = [threads.submit(get, hostile_server, HEAVY, source) for source in fillers]
        time.sleep(1.0)  # all are in (a third of the time limit: room for a loaded machine); the spare
        # worker started meanwhile took one from the queue: two more fill it again
        filling += [threads.submit(get, hostile_server, HEAVY, f"127.0.0.{n}") for n in (18, 19)]
        time.sleep(0.5)
        refused = get(hostile_server, HEAVY, "127.0.0.26")
        light = get(hostile_server, "ASK {}", "127.0.0.27")
        answers = [future.result() for future in filling]
    for answer in (refused, light):
        assert answer.status == 503 and answer.elapsed < 1, (answer.status, answer.elapsed)
        assert retry_after(answer) >= 1 and "The server is busy" in answer.body
        assert answer.headers["X-Request-Id"]
    assert [a.status for a in answers] == [503] * len(answers)
    assert all(a.elapsed < TIME_LIMIT + 1 for a in answers), "a queued request waited past its time limit"


def test_the_time_limit_counts_from_the_arrival(hostile_server):
    """A query that waited 1.5 s for its client's running query gets the rest of its time, not a fresh limit."""
    with ThreadPoolExecutor(1) as threads:
        first = threads.submit(get, hostile_server, HEAVY, "127.0.0.20")
        time.sleep(1.5)
        second = get(hostile_server, HEAVY, "127.0.0.20")
        first = first.result()
    assert first.status == 503 and "time limit" in first.body
    assert second.status == 503 and "time limit" in second.body
    assert TIME_LIMIT - 0.5 < second.elapsed < TIME_LIMIT + 0.8, second.elapsed


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory):
    """The same server under werkzeug's development server (`python server.py`)."""
    with mini_server(tmp_path_factory.mktemp("dev"), env=HOSTILE_SERVER_ENV, command=DEV_SERVER_COMMAND) as base:
        yield base


@pytest.mark.parametrize("server", ["hostile_server", "dev_server"])
def test_a_query_whose_client_went_away_is_stopped(server, request):
    base = request.getfixturevalue(server)
    with ThreadPoolExecutor(1) as threads:
        staying = threads.submit(get, base, HEAVY, "127.0.0.30")  # holds one worker until the time limit
        time.sleep(0.3)
        leaving = send_and_keep_open(base, HEAVY, "127.0.0.31")   # holds the other
        time.sleep(0.7)
        leaving.close()
        time.sleep(0.1)
        assert_alive(base)  # the leaving client's worker was stopped: without that, no worker for 2 s more
        assert staying.result().status == 503
    assert_alive(base)


def test_a_burst_of_clients_that_go_away_at_once_costs_nothing_after(hostile_server):
    clients = [send_and_keep_open(hostile_server, HEAVY, f"127.0.1.{n}") for n in range(1, 33)]
    time.sleep(0.5)  # two run, four wait, the others are refused
    for client in clients:
        client.close()
    assert_alive(hostile_server)
    time.sleep(0.3)
    assert_alive(hostile_server)


def test_every_answer_has_a_request_id(hostile_server):
    ids = {get(hostile_server, "ASK {}").headers["X-Request-Id"] for _ in range(3)}
    ids.add(get(hostile_server, "SELECT * WHERE {").headers["X-Request-Id"])  # an error too
    assert len(ids) == 4 and all(ids)
