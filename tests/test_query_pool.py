"""The query pool in process: who gets a worker (fairness, bounds), who the client is, how workers are
killed and replaced (with the request id in the log), and the pool's settings sized from the machine."""
from __future__ import annotations

import ipaddress
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from clkg import config, store
from clkg.caller import Caller, ClientGone, Refused, client_address
from clkg.config import Settings
from clkg.fairness import FairQueue
from clkg.pool import QueryPool
from clkg.sparql import EmbeddedTarget, QueryError, QueryRequest
from conftest import mini_settings

HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"


def query(text: str) -> QueryRequest:
    return QueryRequest(query=text, limit=1000, generation="test", media_type="application/sparql-results+json")


# --- admission: FairQueue ----------------------------------------------------------------------------------
def wait_until(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.01)


def test_waiting_clients_are_served_in_turn_not_in_order_of_arrival():
    fair = FairQueue(per_client=1, queue=10, queue_per_client=5, retry_after=1)
    fair.add("worker")
    assert fair.acquire("A", time.monotonic() + 10) == "worker"
    served, threads = [], []

    def one_query(client: str):
        worker = fair.acquire(client, time.monotonic() + 10)
        served.append(client)
        fair.release(client, worker)

    for client in ["A", "A", "A", "B", "C"]:  # A queues three before B and C queue one each
        threads.append(threading.Thread(target=one_query, args=(client,)))
        threads[-1].start()
        wait_until(lambda: fair.waiting() == len(threads))
    fair.release("A", "worker")
    for thread in threads:
        thread.join(10)
    assert served == ["A", "B", "C", "A", "A"]


def test_a_client_at_its_limit_waits_while_another_takes_a_free_worker():
    fair = FairQueue(per_client=1, queue=4, queue_per_client=2, retry_after=1)
    fair.add("w1")
    fair.add("w2")
    first = fair.acquire("A", time.monotonic() + 10)
    started = time.monotonic()
    with pytest.raises(Refused) as refused:  # A may run one at once: it waits, until its deadline
        fair.acquire("A", time.monotonic() + 0.3)
    assert refused.value.status == 503 and 0.25 < time.monotonic() - started < 2
    assert int(refused.value.headers["Retry-After"]) >= 1
    assert fair.waiting() == 0  # the expired request left the queue
    assert fair.acquire("B", time.monotonic() + 10) not in (first, None)


def waiting_in_background(fair: FairQueue, clients: list[str], seconds: float) -> tuple[list, list]:
    """Threads that each wait for a worker for `clients[i]` for `seconds`; (threads, outcomes)."""
    outcomes: list = []

    def wait(client):
        try:
            outcomes.append(fair.acquire(client, time.monotonic() + seconds))
        except Refused as refused:
            outcomes.append(refused.status)

    threads = [threading.Thread(target=wait, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    wait_until(lambda: fair.waiting() == len(clients))
    return threads, outcomes


def test_the_queue_is_bounded_in_all_and_per_client():
    fair = FairQueue(per_client=1, queue=3, queue_per_client=2, retry_after=2.5)
    fair.add("w")
    fair.acquire("A", time.monotonic() + 10)
    threads, outcomes = waiting_in_background(fair, ["A", "A", "B"], 1.0)
    with pytest.raises(Refused) as full:  # three wait: the queue is full, a fourth is refused at once
        fair.acquire("C", time.monotonic() + 10)
    assert full.value.status == 503 and full.value.headers["Retry-After"] == "3"
    assert "busy" in full.value.message
    for thread in threads:
        thread.join(5)
    assert outcomes == [503, 503, 503]  # nobody released the worker: each waited until its deadline
    threads, outcomes = waiting_in_background(fair, ["A", "A"], 1.0)
    with pytest.raises(Refused) as flood:  # A has two waiting: its third is refused, not queued
        fair.acquire("A", time.monotonic() + 10)
    assert flood.value.status == 429 and "Too many queries from your address" in flood.value.message
    assert fair.waiting() == 2
    for thread in threads:
        thread.join(5)


def test_a_waiting_request_whose_client_left_leaves_the_queue():
    fair = FairQueue(per_client=1, queue=4, queue_per_client=2, retry_after=1, poll=0.05)
    fair.add("w")
    fair.acquire("A", time.monotonic() + 10)
    left = threading.Event()
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(
        pytest.raises(ClientGone, fair.acquire, "A", time.monotonic() + 30, left.is_set)))
    thread.start()
    wait_until(lambda: fair.waiting() == 1)
    left.set()
    thread.join(2)
    assert outcome and fair.waiting() == 0


def test_a_full_queue_first_lets_go_the_requests_of_clients_that_left():
    fair = FairQueue(per_client=1, queue=1, queue_per_client=1, retry_after=1, poll=30)  # no polling: only the purge
    fair.add("w")
    fair.acquire("A", time.monotonic() + 10)
    left, outcome = threading.Event(), []
    thread = threading.Thread(target=lambda: outcome.append(
        pytest.raises(ClientGone, fair.acquire, "B", time.monotonic() + 30, left.is_set)))
    thread.start()
    wait_until(lambda: fair.waiting() == 1)
    left.set()
    _, outcomes = waiting_in_background(fair, ["C"], 0.5)  # takes B's place instead of a 503
    thread.join(2)
    assert outcome, "the waiting request of the client that left did not end"


# --- the client's identity ---------------------------------------------------------------------------------
PROXY = (ipaddress.ip_network("10.0.0.5"), ipaddress.ip_network("192.168.0.0/24"))


@pytest.mark.parametrize("peer, forwarded, trusted, client", [
    ("203.0.113.9", ["198.51.100.1"], (), "203.0.113.9"),               # no trusted proxy: the header is ignored
    ("203.0.113.9", ["198.51.100.1"], PROXY, "203.0.113.9"),            # the peer is no trusted proxy
    ("10.0.0.5", ["198.51.100.1"], PROXY, "198.51.100.1"),              # one trusted proxy
    ("10.0.0.5", ["6.6.6.6, 198.51.100.1, 192.168.0.7"], PROXY, "198.51.100.1"),  # a forged left part is skipped
    ("10.0.0.5", ["198.51.100.1", "192.168.0.7"], PROXY, "198.51.100.1"),         # several headers: one chain
    ("10.0.0.5", ["not an address"], PROXY, "10.0.0.5"),                # garbage stops at the last trusted hop
    ("10.0.0.5", [], PROXY, "10.0.0.5"),
    ("::1", ["2001:db8::1"], (ipaddress.ip_network("::1"),), "2001:db8::1"),
])
def test_client_address_believes_x_forwarded_for_only_from_trusted_proxies(peer, forwarded, trusted, client):
    assert client_address(peer, forwarded, trusted) == client


def test_trusted_proxies_setting_is_parsed_and_checked(monkeypatch):
    assert config.parse_networks(" 10.0.0.5, 192.168.0.0/24 ,::1") == (
        ipaddress.ip_network("10.0.0.5"), ipaddress.ip_network("192.168.0.0/24"), ipaddress.ip_network("::1"))
    with pytest.raises(ValueError, match="CLKG_TRUSTED_PROXIES: 'proxy.example' is not"):
        config.parse_networks("10.0.0.5,proxy.example")


# --- the pool's settings ------------------------------------------------------------------------------------
def test_pool_settings_are_sized_from_the_machine():
    settings = Settings()
    cpus = len(os.sched_getaffinity(0))
    assert settings.query_workers == max(2, cpus)
    assert 1 <= settings.query_per_client < settings.query_workers
    assert settings.query_queue == 4 * settings.query_workers
    assert settings.web_threads > settings.query_workers + settings.query_queue


def test_pool_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("CLKG_QUERY_WORKERS", "6")
    monkeypatch.setenv("CLKG_QUERY_PER_CLIENT", "2")
    monkeypatch.setenv("CLKG_QUERY_QUEUE", "9")
    monkeypatch.setenv("CLKG_TRUSTED_PROXIES", "127.0.0.1")
    settings = Settings.from_env()
    assert (settings.query_workers, settings.query_per_client, settings.query_queue) == (6, 2, 9)
    assert settings.query_queue_per_client == 2 and settings.trusted_proxies == (ipaddress.ip_network("127.0.0.1"),)


@pytest.mark.parametrize("env, message", [
    ({"CLKG_QUERY_WORKERS": "2", "CLKG_QUERY_PER_CLIENT": "2"}, "CLKG_QUERY_PER_CLIENT (2) must be fewer"),
    ({"CLKG_QUERY_WORKERS": "many"}, "CLKG_QUERY_WORKERS: 'many' is not a int"),
    ({"CLKG_QUERY_QUEUE": "-3"}, "CLKG_QUERY_QUEUE must be at least 1"),
    ({"CLKG_TRUSTED_PROXIES": "10.0.0.0/33"}, "CLKG_TRUSTED_PROXIES: '10.0.0.0/33' is not"),
])
def test_serve_refuses_pool_settings_that_cannot_work(env, message, tmp_path):
    result = subprocess.run([sys.executable, "-m", "clkg.cli", "serve", "--port", "1"], cwd=config.ROOT,
                            env=dict(os.environ, CLKG_DATA_DIR=str(tmp_path), **env), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


# --- workers: killed, logged with the request id, replaced -------------------------------------------------
@pytest.fixture(scope="module")
def store_dir(tmp_path_factory) -> EmbeddedTarget:
    settings = mini_settings(tmp_path_factory.mktemp("pool"))
    store.build(settings, reason=False)
    return EmbeddedTarget(str(store.store_path(settings)))


@pytest.fixture()
def pool(store_dir):
    pool = QueryPool(store_dir, size=2, timeout=5, per_client=1, queue=4, queue_per_client=2)
    yield pool
    pool.close()


def answers(pool: QueryPool) -> bool:
    body, _ = pool.run(query("ASK {}"), Caller(deadline=time.monotonic() + 5))
    return b"true" in body


def test_a_query_past_its_deadline_is_killed_logged_and_replaced(pool, caplog):
    before = pool.pids
    caplog.set_level(logging.WARNING, logger="clkg.pool")
    started = time.monotonic()
    with pytest.raises(QueryError) as stopped:
        pool.run(query(HEAVY), Caller(client="198.51.100.1", deadline=started + 0.8, request_id="req-limit"))
    assert stopped.value.status == 503 and "time limit" in stopped.value.message
    assert time.monotonic() - started < 2.5
    assert "request req-limit: query worker" in caplog.text and "killed (time limit)" in caplog.text
    # the killed worker is gone and the pool has its workers again (a spare may have started beside them)
    wait_until(lambda: len(pool.pids) >= 2 and set(before) - set(pool.pids))
    assert answers(pool)


def test_a_request_past_its_deadline_starts_no_query(pool, caplog):
    """A page whose earlier queries used up the request's time gets a 503, and no worker is killed for it."""
    before = pool.pids
    caplog.set_level(logging.WARNING, logger="clkg.pool")
    with pytest.raises(QueryError) as late:
        pool.run(query("ASK {}"), Caller(deadline=time.monotonic() - 0.1, request_id="req-late"))
    assert late.value.status == 503 and "time limit" in late.value.message
    assert pool.pids == before and "req-late" not in caplog.text and answers(pool)


def test_a_query_whose_client_left_is_killed_at_once(pool, caplog):
    caplog.set_level(logging.WARNING, logger="clkg.pool")
    ours, theirs = socket.socketpair()
    threading.Timer(0.3, theirs.close).start()
    started = time.monotonic()
    with pytest.raises(ClientGone):
        pool.run(query(HEAVY), Caller(client="A", deadline=started + 30, request_id="req-gone", connection=ours))
    assert time.monotonic() - started < 2, "the query ran on after its client had gone"
    assert "request req-gone: query worker" in caplog.text and "killed (client gone)" in caplog.text
    ours.close()
    wait_until(lambda: len(pool.pids) >= 2)  # replaced (a spare may have started beside them)
    assert answers(pool)


def test_a_client_with_unread_data_is_not_taken_for_gone(pool):
    ours, theirs = socket.socketpair()
    theirs.sendall(b"GET /next HTTP/1.1\r\n\r\n")  # a pipelined request: readable, but the client is there
    body, _ = pool.run(query("ASK {}"), Caller(deadline=time.monotonic() + 5, connection=ours))
    assert b"true" in body
    ours.close()
    theirs.close()


def test_a_crashed_worker_is_logged_and_replaced(store_dir, caplog):
    caplog.set_level(logging.WARNING, logger="clkg.pool")
    pool = QueryPool(store_dir, size=1, timeout=5, per_client=1, queue=2, queue_per_client=2)
    try:
        [pid] = pool.pids
        threading.Timer(0.3, os.kill, (pid, signal.SIGKILL)).start()
        with pytest.raises(QueryError) as crashed:
            pool.run(query(HEAVY), Caller(deadline=time.monotonic() + 10, request_id="req-crash"))
        assert crashed.value.status == 503 and "stopped unexpectedly" in crashed.value.message
        assert "request req-crash: query worker" in caplog.text and "crashed" in caplog.text
        wait_until(lambda: pool.pids and pool.pids != [pid])
        assert answers(pool)
    finally:
        pool.close()


# --- long queries step aside ---------------------------------------------------------------------------------
def running_in_background(pool: QueryPool, client: str, seconds: float) -> tuple[threading.Thread, list]:
    """A heavy query of `client` in a thread, its deadline `seconds` away; the list gets its outcome."""
    outcome = []

    def run():
        try:
            outcome.append(pool.run(query(HEAVY), Caller(client=client, deadline=time.monotonic() + seconds)))
        except QueryError as error:
            outcome.append(error)
    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def niceness(pid: int) -> int:
    """The highest priority (lowest niceness) of any of the process's threads."""
    return min(os.getpriority(os.PRIO_PROCESS, int(thread)) for thread in os.listdir(f"/proc/{pid}/task"))


def test_a_long_query_runs_at_the_lowest_priority_beside_a_spare_and_its_worker_is_not_reused(store_dir):
    pool = QueryPool(store_dir, size=2, timeout=8, per_client=2, queue=4, queue_per_client=2, long_after=0.2,
                     long_workers=2)
    try:
        first = set(pool.pids)
        threads = [running_in_background(pool, client, 6) for client in ("L1", "L2")]
        wait_until(lambda: all(niceness(pid) == 19 for pid in first))  # both long: at the lowest priority
        wait_until(lambda: len(set(pool.pids) - first) >= 2)  # and two short workers in their places
        assert all(niceness(pid) == 0 for pid in set(pool.pids) - first)
        assert answers(pool) and all(thread.is_alive() for thread, _ in threads), "a short query waited for a long one"
        for thread, outcome in threads:
            thread.join()
            assert isinstance(outcome[0], QueryError) and outcome[0].status == 503
        wait_until(lambda: len(pool.pids) >= 2 and not set(pool.pids) & first)  # the long ones' workers are gone
        assert answers(pool)
    finally:
        pool.close()


def test_one_long_query_more_than_allowed_stops_the_one_that_ran_longest(store_dir, caplog):
    caplog.set_level(logging.WARNING, logger="clkg.pool")
    pool = QueryPool(store_dir, size=2, timeout=8, per_client=2, queue=4, queue_per_client=2, long_after=0.1,
                     long_workers=1)
    try:
        older, older_outcome = running_in_background(pool, "A", 6)
        wait_until(lambda: any(niceness(pid) == 19 for pid in pool.pids))
        newer, newer_outcome = running_in_background(pool, "B", 1.5)
        older.join(5)
        assert not older.is_alive(), "the oldest long query was not stopped"
        error = older_outcome[0]
        assert error.status == 503 and "CLKG_QUERY_LONG_WORKERS" in error.message and "longest" in error.message
        assert "stopping the oldest" in caplog.text
        newer.join()
        assert "time limit" in newer_outcome[0].message  # the newer one ran on to its own deadline
        assert answers(pool)
    finally:
        pool.close()


def test_long_query_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("CLKG_QUERY_WORKERS", "3")
    assert Settings.from_env().query_long_workers == 6  # 2 x the workers by default
    monkeypatch.setenv("CLKG_QUERY_LONG_WORKERS", "5")
    monkeypatch.setenv("CLKG_QUERY_LONG_AFTER", "0.5")
    settings = Settings.from_env()
    assert (settings.query_long_workers, settings.query_long_after) == (5, 0.5)
    assert settings.web_threads == 3 + 5 + settings.query_queue + 4
    monkeypatch.setenv("CLKG_QUERY_LONG_AFTER", "0")
    with pytest.raises(ValueError, match="CLKG_QUERY_LONG_AFTER"):
        Settings.from_env()


def test_a_waiting_client_that_used_the_workers_least_goes_first():
    fair = FairQueue(per_client=2, queue=8, queue_per_client=4, retry_after=1, busy_after=100)
    fair.add("w")
    taken = fair.acquire("heavy", time.monotonic() + 1)
    served = []

    def wait(client):
        try:
            fair.acquire(client, time.monotonic() + 3)
            served.append(client)
        except Refused:  # the one worker went to the other client: this one waited to its deadline
            pass
    for client in ("heavy", "light"):  # heavy waits first
        threading.Thread(target=wait, args=(client,), daemon=True).start()
        wait_until(lambda: fair.waiting() == (1 if client == "heavy" else 2))
    fair.release("heavy", taken, used=5.0)  # heavy has now used 5 s of a worker, light nothing
    wait_until(lambda: served)
    assert served == ["light"]


def test_a_busy_client_may_not_take_the_last_free_worker():
    fair = FairQueue(per_client=2, queue=8, queue_per_client=4, retry_after=1, busy_after=0.5, reserve=1)
    fair.add("w1")
    taken = fair.acquire("heavy", time.monotonic() + 1)
    fair.release("heavy", taken, used=2.0)  # busy now
    with pytest.raises(Refused):
        fair.acquire("heavy", time.monotonic() + 0.3)  # one worker free, and it is the reserve
    assert fair.acquire("light", time.monotonic() + 0.3) == "w1"
    fair.add("w2")
    fair.add("w3")
    assert fair.acquire("heavy", time.monotonic() + 0.3) in ("w2", "w3")  # two free: it may take one


def test_a_busy_client_waits_while_there_is_no_room_for_another_long_query():
    room = [False]
    fair = FairQueue(per_client=2, queue=8, queue_per_client=4, retry_after=1, busy_after=0.5, reserve=0,
                     room_for_busy=lambda: room[0])
    for worker in ("w1", "w2", "w3"):
        fair.add(worker)
    fair.release("heavy", fair.acquire("heavy", time.monotonic() + 1), used=2.0)  # busy now
    with pytest.raises(Refused):
        fair.acquire("heavy", time.monotonic() + 0.3)  # free workers, but no room for a long query
    assert fair.acquire("newcomer", time.monotonic() + 0.3) in ("w1", "w2", "w3")
    room[0] = True
    assert fair.acquire("heavy", time.monotonic() + 0.3) in ("w1", "w2", "w3")
