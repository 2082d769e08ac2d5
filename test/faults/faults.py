#!/usr/bin/python3
"""test/faults/faults.py: engage under cancellation, termination and repetition.

Run by test/faults/test_faults.sh, which starts the cluster and passes the
database in the PG* environment and the server log in ENGAGE_FAULTS_LOG.

Every fault waits for the call to reach a named step, as another session
sees it (never for a share of a time measured earlier), and lands inside
the call whatever the speed of the machine:

  - The steps.  run_analysis: "aggregate" (its first statement locks
    engage.result_user_engagement when it starts), "K-means"
    (engage.result_cluster_stats: its statistics, after the fit; a run on
    one node writes no users' clusters), "elbow" (engage.result_elbow) and
    "pruning" (the UPDATE of the runs it prunes), read from pg_locks.
    kmeans_cluster and elbow_inertia on 10 million points: "reading the
    points" (the backend's read count, /proc/<pid>/io rchar, grows),
    "ordering the points" (it has stopped growing, one thread) and "K-means
    on threads" (/proc/<pid>/task; the elbow starts a set of threads per k,
    counted).
  - A gate.  Before the call starts, a third session takes a lock that the
    call needs after the step aimed at: a SHARE lock on the result table of
    run_analysis's next step, the engage.run rows the run would prune, or
    an uncommitted row of the key (UNIQUE) the call's INSERT writes.  The
    call cannot finish before the fault lands, so a probe never passes
    without having faulted a call; the gate is rolled back after the fault.
  - Where it landed.  run_analysis's error names the statement it
    interrupted (its CONTEXT: from the client for a cancel, from the server
    log for a termination): the fault must have landed in the step aimed
    at, between it and the next one, or at the gate.  For the other calls,
    the state when the fault was sent and whether the error names the points
    query (a cancel while reading them) are printed.

1. Cancellation.  pg_cancel_backend (at a named step) and statement_timeout
   (aimed at a step: the time the call before took to reach it) stop
   kmeans_cluster and elbow_inertia on 10 million points (3 float8 features)
   and run_analysis on a 300,000-row xDR table (ENGAGE_FAULTS_XDR_ROWS).
   The cancel must be honoured: the call ends with SQLSTATE 57014 (waiting
   for it is bounded by ENGAGE_FAULTS_HANG_LIMIT seconds, default 300, a
   guard against a hang, not a performance limit).  The time from the
   request to the error is printed, not checked (the functions check for
   interrupts every 4,096 to 65,536 points and every Lloyd iteration; on an
   idle machine a cancel takes milliseconds).  After each cancel the
   session is still usable, its INSERT left no rows, it holds no lock, its
   K-means threads are gone and its memory is given back.  One probe slows
   the worker thread of a 2-restart K-means down (it is pinned to one core
   with busy processes) so that the backend's own thread waits for it, and
   cancels then: the wait must answer the cancel.  pg_terminate_backend
   during the threaded K-means and elbow must end the backend alone (the
   server log is checked for a crash afterwards).

2. Repetition.  100 calls of each function in one backend (K-means of
   100,000 points, the elbow, normalize_points, the charts, report_html,
   run_analysis, and a call that fails) must not grow its memory: the sum
   of pg_backend_memory_contexts after call 10 and after call 100 differ by
   at most 64 kB (a leak of 730 bytes per call would exceed it; one call of
   the K-means allocates about 20 MB), and its private resident memory
   (RssAnon of /proc/<pid>/status) by at most 16 MB (a leak of 180 kB per
   call; the points of one K-means call take 2.4 MB, malloc may keep freed
   pages).  VmRSS and its peak VmHWM also count the shared buffers the
   backend has touched (RssShmem), which grow with every page a run writes
   into shared_buffers: they are printed, not checked.

3. Termination.  pg_terminate_backend in run_analysis's aggregate, K-means
   and elbow steps, pg_cancel_backend in its elbow step and a
   statement_timeout aimed at it leave the results of the previous run
   whole (a checksum of every view and of the report), engage.run as it was
   (the run's row was inserted by the killed transaction, so it is rolled
   back with it; only the run id sequence moves on), no lock behind, and a
   following run succeeds with the same results.

ENGAGE_FAULTS_QUICK=1 faults at fewer steps (scripts/test.sh).

Prints one line per check ("ok - ..." or "not ok - ...": test/python/helpers.py)
and the figures (among them every cancellation latency, and their median
and maximum), and ends with "N passed, N failed"; exits non-zero on any
failure.
"""

import os
import re
import subprocess
import sys
import threading
import time

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from helpers import check, connect, finish  # noqa: E402  (test/python/helpers.py)

BIG_ROWS = int(os.environ.get("ENGAGE_FAULTS_POINTS", "10000000"))
XDR_ROWS = int(os.environ.get("ENGAGE_FAULTS_XDR_ROWS", "300000"))
# the longest wait for a step, or for a call to end after its fault: a
# guard against a hang, not a performance limit
HANG_LIMIT = float(os.environ.get("ENGAGE_FAULTS_HANG_LIMIT", "300"))
# fewer cancellation steps (each still covered: points read, ordered,
# K-means on threads, the elbow, run_analysis), for CI
QUICK = os.environ.get("ENGAGE_FAULTS_QUICK", "0") == "1"
CTX_TOLERANCE = 64 * 1024
RSS_TOLERANCE = 16 * 1024 * 1024
CALLS = 100
POLL = 0.01             # seconds between two looks at a call
STILL = 0.1             # no read for this long: the points are read
AIM = 0.25              # a statement_timeout lands this long after the step began

FIGURES = []
LATENCIES = []


def one(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()[0]


def pid_of(conn):
    return one(conn, "SELECT pg_backend_pid()")


def proc_status(pid):
    """Fields of /proc/<pid>/status (kB values as bytes)."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            parts = value.split()
            if len(parts) == 2 and parts[1] == "kB":
                out[key] = int(parts[0]) * 1024
            elif parts:
                out[key] = parts[0]
    return out


def read_bytes(pid):
    """Bytes the process has read with read() and pread() (rchar of /proc/<pid>/io)."""
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    return 0


class Victim:
    """One statement run in its own session, on a thread."""

    def __init__(self, sql, **settings):
        self.conn = connect(**settings)
        self.pid = pid_of(self.conn)
        self.sql = sql
        self.result = None
        self.error = None
        self.sqlstate = None
        self.context = None
        self.started = None
        self.ended = None
        self.thread = threading.Thread(target=self._run)

    def _run(self):
        self.started = time.monotonic()
        try:
            with self.conn.cursor() as cur:
                cur.execute(self.sql)
                if cur.description is not None:
                    self.result = cur.fetchone()[0]
        except psycopg2.Error as e:
            self.error = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            self.sqlstate = e.pgcode
            self.context = e.diag.context
        self.ended = time.monotonic()

    def start(self):
        self.thread.start()
        while self.started is None:
            time.sleep(0.001)
        return self

    def wait(self, timeout=None):
        self.thread.join(timeout)
        return not self.thread.is_alive()


# ---------------------------------------------------------------------------
# Watching a call from another session: its steps, a gate, where a fault landed

class Gate:
    """Locks that a call needs after the step a fault aims at, held by a
    session of their own in an open transaction (taken before the call
    starts): the call cannot finish before the fault lands.  sql: the
    statements that take them; each must lock something (return a row or
    succeed as a LOCK)."""

    def __init__(self, sql):
        self.conn = psycopg2.connect("")
        self.pid = pid_of(self.conn)
        with self.conn.cursor() as cur:
            for s in sql:
                cur.execute(s)
                if cur.description is not None and cur.rowcount < 1:
                    raise RuntimeError(f"the gate locks nothing: {s}")

    def release(self):
        self.conn.rollback()
        self.conn.close()


class Watch:
    """What another session and /proc show of a call's backend, one sample
    at a time: the relations its transaction has locked, whether the gate
    blocks it, its threads, the bytes it has read, and when each state
    (the call's own names) was first seen."""

    def __init__(self, ctl, v, gate=None, state=None):
        self.ctl = ctl
        self.v = v
        self.gate = gate
        self.state = state      # a function of the watch: the state's name
        self.locks = set()
        self.blocked = False
        self.threads = 1
        self.pools = 0          # times threads started
        self.rchar = None
        self.last_read = None   # when rchar last grew
        self.read = False       # rchar has grown since the call started
        self.reading = False    # rchar grew since the sample before
        self.seen = {}          # state -> seconds from the call's start, when first seen
        self.timeline = []      # (seconds from the call's start, state) at each change
        self.now = None

    def sample(self):
        """Take one sample; False when the call has ended."""
        if not self.v.thread.is_alive():
            return False
        try:
            threads = int(proc_status(self.v.pid)["Threads"])
            rchar = read_bytes(self.v.pid)
        except (FileNotFoundError, ProcessLookupError):
            return False
        locks, blocked = one_row(self.ctl, """
            SELECT coalesce(array_agg(l.relation::regclass::text) FILTER (WHERE l.granted AND l.relation IS NOT NULL), '{}'),
                   coalesce(%s = ANY (pg_blocking_pids(%s)), false)
            FROM pg_locks l WHERE l.pid = %s""", (self.gate.pid if self.gate else 0, self.v.pid, self.v.pid))
        self.now = time.monotonic()
        self.reading = self.rchar is not None and rchar - self.rchar >= 65536
        if self.reading:
            self.read = True
            self.last_read = self.now
        if threads > 1 and self.threads == 1:
            self.pools += 1
        self.rchar, self.threads, self.locks, self.blocked = rchar, threads, set(locks), blocked
        if self.state is not None:
            state, t = self.state(self), self.now - self.v.started
            self.seen.setdefault(state, t)
            if not self.timeline or self.timeline[-1][1] != state:
                self.timeline.append((t, state))
        return self.v.thread.is_alive()

    def state_at(self, t):
        """The state last seen t seconds after the call's start, or before."""
        return next((state for at, state in reversed(self.timeline) if at <= t), "starting")

    def wait_for(self, reached):
        """Sample until reached(self) or the gate blocks the call: "reached",
        "gate", or "ended" (the call ended first) or "hang" (HANG_LIMIT)."""
        deadline = time.monotonic() + HANG_LIMIT
        while self.sample():
            if reached(self):
                return "reached"
            if self.blocked:
                return "gate"
            if time.monotonic() > deadline:
                return "hang"
            time.sleep(POLL)
        return "ended"

    def follow(self):
        """Sample until the call ends (statement_timeout), HANG_LIMIT at most."""
        deadline = time.monotonic() + HANG_LIMIT
        while self.sample() and time.monotonic() < deadline:
            time.sleep(POLL)


def one_row(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()


LOG_ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\S* \S+ \[(\d+)\] ([A-Z]+):  (.*)$")


def logged_context(pid):
    """The CONTEXT of the last FATAL of backend pid in the server log (its
    termination names the statement it interrupted), or None."""
    path = os.environ.get("ENGAGE_FAULTS_LOG")
    if not path:
        return None
    entries = []
    with open(path, errors="replace") as f:
        for line in f:
            m = LOG_ENTRY.match(line)
            if m:
                entries.append([m.group(1), m.group(2), m.group(3)])
            elif entries:
                entries[-1][2] += "\n" + line.rstrip("\n")
    context = None
    for i, (p, level, text) in enumerate(entries):
        if p == str(pid) and level == "FATAL":
            context = None
            for q, level2, text2 in entries[i + 1:]:
                if q == str(pid) and level2 == "CONTEXT":
                    context = text2
                    break
                if q == str(pid) and level2 in ("FATAL", "ERROR", "LOG"):
                    break
    return context


class RunCall:
    """run_analysis: its steps as another session sees them (each step's
    statement locks its result table when it starts) and as an error names
    them (the statement in its CONTEXT)."""

    # step, relation its statement locks, text of that statement
    STEPS = [("aggregate", "engage.result_user_engagement", "WITH agg AS MATERIALIZED"),
             ("K-means", "engage.result_cluster_stats", "kmeans_model("),
             ("elbow", "engage.result_elbow", "elbow_inertia("),
             ("pruning", None, "status = 'pruned'")]
    # what blocks each step but the first: a SHARE lock of its result table,
    # or the rows of engage.run that the run prunes (keep_runs 3: the ok runs
    # of its analysis, RUN_NAME, but the 2 latest, so there must be one at
    # least)
    GATES = {"K-means": ["LOCK TABLE engage.result_cluster_stats IN SHARE MODE"],
             "elbow": ["LOCK TABLE engage.result_elbow IN SHARE MODE"],
             "pruning": ["SELECT run_id FROM engage.run WHERE status = 'ok' AND name = 'public.xdr_run' "
                         "ORDER BY run_id DESC OFFSET 2 FOR UPDATE"]}

    def __init__(self, source, rows):
        self.label = f"run_analysis of {rows:,} rows"
        self.sql = f"SELECT engage.run_analysis('{source}')"
        self.table = None

    def index(self, step):
        return [s[0] for s in self.STEPS].index(step)

    def gate(self, target):
        """The gate of a fault aimed at step target: before the next step."""
        return self.GATES[self.STEPS[self.index(target) + 1][0]]

    def state(self, w):
        """The step the run is in: the last whose relation it has locked."""
        step = "starting"
        for name, rel, _ in self.STEPS:
            if rel in w.locks:
                step = name
        return step + (" (blocked by the gate)" if w.blocked else "")

    def reached(self, target):
        i = self.index(target)
        return lambda w: any(rel in w.locks for _, rel, _ in self.STEPS[i:] if rel)

    def landed(self, context):
        """Where a fault landed, by the statement its error names."""
        if not context or "run_analysis(" not in context:
            return None
        for name, _, text in reversed(self.STEPS):
            if text in context:
                return name
        return "between two steps"

    def check_landing(self, name, target, method, context):
        """The fault landed in the step aimed at, between it and the next
        one, or at the gate before the next; a statement_timeout anywhere
        up to the gate."""
        where = self.landed(context)
        nxt = self.STEPS[self.index(target) + 1][0]
        if method == "statement_timeout":
            fine = where is not None and (where == "between two steps"
                                          or self.index(where) <= self.index(nxt))
        else:
            fine = where in (target, "between two steps", nxt)
        shown = where if where != nxt else f"{nxt}, blocked by the gate"
        check(f"{name}: landed inside the run ({shown})", fine,
              f"the error names {where or 'no statement of run_analysis'}: {(context or '')[:300]!r}")


class PointsCall:
    """kmeans_cluster or elbow_inertia on the 10M-point table, INSERTed into
    table: reading the points, ordering them, K-means on threads."""

    def __init__(self, label, sql, table, gate_sql):
        self.label = label
        self.sql = sql
        self.table = table
        self.gate_sql = gate_sql

    def gate(self, target):
        """An uncommitted row of a key the call's INSERT writes."""
        return [self.gate_sql]

    def state(self, w):
        if w.threads > 1:
            s = f"K-means on threads ({w.pools})"
        elif w.pools:
            s = f"after threads ({w.pools})"
        elif w.reading or not w.read:
            s = "reading the points"
        else:
            s = "ordering the points" if w.now - w.last_read >= STILL else "reading the points"
        return s + (" (blocked by the gate)" if w.blocked else "")

    def reached(self, target):
        if target == "reading the points":
            return lambda w: w.read
        if target == "ordering the points":
            return lambda w: w.pools > 0 or (w.read and w.threads == 1 and w.now - w.last_read >= STILL)
        n = int(target.rsplit("(", 1)[1].rstrip(")"))     # "K-means on threads (n)"
        return lambda w: w.pools >= n and w.threads > 1

    def check_landing(self, name, target, method, context):
        """Reported, not checked: no statement names the steps of a C function."""
        reading = context is not None and "SQL statement" in context
        print(f"# {name}: the error {'names the points query (reading them)' if reading else 'names no query (after reading the points)'}")


def fault(ctl, call, method, target, timeout=None):
    """One fault in one call: pg_cancel_backend or pg_terminate_backend sent
    when the call reaches step target, or a statement_timeout of timeout
    seconds aimed at it; behind the gate of target.  Checks that the fault
    is honoured and where it landed.  Returns (victim, watch, ctl): the
    victim None when the fault could not be sent; ctl a new connection when
    the old one was lost."""
    name = probe_name(call, method, target, timeout)
    try:
        gate = Gate(call.gate(target))
    except (psycopg2.Error, RuntimeError) as e:
        check(f"{name}: a gate", False, str(e).strip().splitlines()[0])
        return None, None, ctl
    if method == "statement_timeout":
        v = Victim(call.sql, statement_timeout=max(1, int(timeout * 1000))).start()
    else:
        v = Victim(call.sql).start()
    w = Watch(ctl, v, gate, call.state)
    requested = None
    if method == "statement_timeout":
        w.follow()
        at = w.state_at(timeout)
        requested = v.started + timeout
        name += f" ({timeout:.2f} s; last seen: {at})"
    else:
        outcome = w.wait_for(call.reached(target))
        at = call.state(w)
        if outcome in ("ended", "hang"):
            if outcome == "hang":
                one(ctl, "SELECT pg_terminate_backend(%s)", (v.pid,))
            v.wait(HANG_LIMIT)
            gate.release()
            check(f"{name}: reached", False, f"the call {'ended' if outcome == 'ended' else 'never got there'} "
                   f"({v.sqlstate} {v.error or 'success'}) before the fault, last seen {at}")
            v.conn.close()
            return None, w, ctl
        requested = time.monotonic()
        one(ctl, f"SELECT {method}(%s)", (v.pid,))
        if at != target:
            name += f" (sent: {at})"
    honoured = v.wait(HANG_LIMIT)
    if not honoured:
        check(f"{name}: honoured", False, f"the call still runs {HANG_LIMIT:g} s after the fault: terminated")
        one(ctl, "SELECT pg_terminate_backend(%s)", (v.pid,))
        v.wait(HANG_LIMIT)
    gate.release()
    latency = v.ended - requested if v.ended is not None else None
    if method == "pg_terminate_backend":
        gone = False
        for _ in range(int(HANG_LIMIT / 0.05)):
            try:
                if one(ctl, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (v.pid,)) == 0:
                    gone = True
                    break
            except psycopg2.Error as e:
                check(f"{name}: the other sessions survive", False, f"{e}".strip().splitlines()[0])
                ctl = connect()
                break
            time.sleep(0.05)
        check(f"{name}: the backend exits and the other sessions survive",
              gone and v.error is not None and v.sqlstate in (None, "57P01"),
              f"call ended with {v.sqlstate} {v.error or 'success'}")
        if gone:
            call.check_landing(name, target, method, logged_context(v.pid))
        v.conn.close()
        return v, w, ctl
    if honoured and v.sqlstate == "57014":
        LATENCIES.append(latency)
        FIGURES.append((f"{name}: cancelled after", latency))
        check(f"{name}: cancelled (57014), {latency * 1000:.0f} ms after the "
              f"{'request' if method == 'pg_cancel_backend' else 'timeout'}", True)
        call.check_landing(name, target, method, v.context)
    elif honoured:
        check(f"{name}: cancelled", False, f"the call ended with {v.sqlstate} {v.error or 'success'}"
              f" after {v.ended - v.started:.1f} s, last seen {at}")
    return v, w, ctl


def probe_name(call, method, target, timeout=None):
    return f"{call.label}, {method} {'in' if timeout is None else 'aimed at'} {target}"


def aim(w, target):
    """A statement_timeout aimed at step target, from the watch of a call
    before: AIM after it was first seen there, or after the last state seen."""
    if w is None or not w.seen:
        return 1.0
    base = next((t for s, t in w.seen.items() if s.startswith(target)), max(w.seen.values()))
    return base + AIM


# ---------------------------------------------------------------------------
# Set-up

def setup(ctl):
    with ctl.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS engage")
        # 10 million points, 3 float8 features from a cheap deterministic hash
        cur.execute("DROP TABLE IF EXISTS big, mid, km_out, elbow_out, xdr_run, xdr_small")
        cur.execute(f"""
            CREATE UNLOGGED TABLE big AS
            SELECT i AS id, ((i * 2654435761) % 1000003)::float8 AS a,
                   ((i * 40503) % 999983)::float8 / 7 AS b,
                   ((i * 69069 + 12345) % 1000033)::float8 / 3 AS c
            FROM generate_series(1, {BIG_ROWS}::bigint) AS i""")
        cur.execute("CREATE UNLOGGED TABLE mid AS SELECT * FROM big WHERE id <= 100000")
        # UNIQUE: a gate holds an uncommitted row of a key that the call writes
        cur.execute("CREATE TABLE km_out (key text UNIQUE, cluster integer, distance float8)")
        cur.execute("CREATE TABLE elbow_out (k integer UNIQUE, inertia float8, silhouette float8, "
                    "iterations integer, is_elbow boolean, centroids float8[], sample_size integer, "
                    "davies_bouldin float8, calinski_harabasz float8)")
        cur.execute(f"SELECT engage.generate_xdr('xdr_run', {XDR_ROWS}, seed => 3)")
        cur.execute("SELECT engage.generate_xdr('xdr_small', 2000, seed => 4)")


# ---------------------------------------------------------------------------
# 1. Cancellation

def after_cancel(name, v, ctl, table=None):
    """The cancelled session is usable, left no rows, locks, threads or memory."""
    problems = []
    try:
        if one(v.conn, "SELECT 1") != 1:
            problems.append("SELECT 1 failed")
    except psycopg2.Error as e:
        problems.append(f"session unusable: {e}")
    if table is not None:
        n = one(ctl, f"SELECT count(*) FROM {table}")
        if n != 0:
            problems.append(f"{n} rows in {table}")
    locks = one(ctl, "SELECT count(*) FROM pg_locks WHERE pid = %s", (v.pid,))
    if locks != 0:
        problems.append(f"{locks} locks held")
    st = proc_status(v.pid)
    if st.get("Threads") != "1":
        problems.append(f"{st.get('Threads')} threads")
    if st.get("RssAnon", 0) > 256 * 1024 * 1024:
        problems.append(f"{st['RssAnon'] >> 20} MB of anonymous memory kept")
    check(f"{name}: session usable, no rows, no lock, no thread, memory given back",
          not problems, "; ".join(problems))


def cancel_probe(ctl, call, method, target, w_before=None):
    """A cancel (pg_cancel_backend in step target, or a statement_timeout
    aimed at it from the watch of the call before) and the state it leaves."""
    timeout = aim(w_before, target) if method == "statement_timeout" else None
    v, w, ctl = fault(ctl, call, method, target, timeout)
    if v is not None:
        if v.sqlstate == "57014":
            after_cancel(probe_name(call, method, target, timeout), v, ctl, call.table)
        v.conn.close()
    return w


def thread_state(pid):
    with open(f"/proc/{pid}/task/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def worker_wait_probe(ctl, km):
    """Cancel while the backend's thread waits for a slowed-down worker thread."""
    name = "kmeans_cluster, pg_cancel_backend while the backend's thread waits for its worker"
    if (os.cpu_count() or 1) < 2:
        check(f"{name} # skip: needs 2 cores", True)
        return
    gate = Gate(km.gate(None))
    v = Victim("INSERT INTO km_out SELECT * FROM engage.kmeans_cluster("
               "'SELECT id, a, b, c FROM big', 5, n_init => 2, tol => 0, seed => 4)").start()
    w = Watch(ctl, v, gate, km.state)
    hogs = []
    requested = None
    deadline = time.monotonic() + HANG_LIMIT
    try:
        while w.sample() and not w.blocked and time.monotonic() < deadline:
            tids = [int(t) for t in os.listdir(f"/proc/{v.pid}/task")]
            if len(tids) > 1 and not hogs:
                # the worker on core 1 with three busy processes, the backend's thread on core 0
                worker = max(t for t in tids if t != v.pid)
                subprocess.run(["taskset", "-p", "-c", "0", str(v.pid)], capture_output=True, check=True)
                subprocess.run(["taskset", "-p", "-c", "1", str(worker)], capture_output=True, check=True)
                hogs = [subprocess.Popen(["taskset", "-c", "1", sys.executable, "-c", "while True: pass"])
                        for _ in range(3)]
            if hogs and len(tids) > 1 and thread_state(v.pid) == "S":
                time.sleep(0.2)
                if thread_state(v.pid) == "S" and len(os.listdir(f"/proc/{v.pid}/task")) > 1:
                    requested = time.monotonic()
                    one(ctl, "SELECT pg_cancel_backend(%s)", (v.pid,))
                    break
            time.sleep(0.05)
        if requested is None:
            one(ctl, "SELECT pg_cancel_backend(%s)", (v.pid,))
        honoured = v.wait(HANG_LIMIT)
    finally:
        for h in hogs:
            h.kill()
            h.wait()
        gate.release()
    if requested is None:
        check(name, False, f"the backend's thread never waited for its worker (last seen "
              f"{w.state(w) if w.now else 'starting'}); the probe could not cancel there")
    elif not honoured:
        check(name, False, f"the call still runs {HANG_LIMIT:g} s after the cancel")
    elif v.sqlstate != "57014":
        check(name, False, f"the call ended with {v.sqlstate} {v.error or 'success'}")
    else:
        latency = v.ended - requested
        LATENCIES.append(latency)
        FIGURES.append((f"{name}: cancelled after", latency))
        check(f"{name}: cancelled (57014), {latency * 1000:.0f} ms after the request", True)
        after_cancel(name, v, ctl, "km_out")
    v.conn.close()


def cancellation(ctl):
    km = PointsCall(f"kmeans_cluster of {BIG_ROWS:,} points",
                    "INSERT INTO km_out SELECT * FROM engage.kmeans_cluster('SELECT id, a, b, c FROM big', 3)",
                    "km_out", "INSERT INTO km_out VALUES ('1', 0, 0)")
    elbow = PointsCall(f"elbow_inertia of {BIG_ROWS:,} points",
                       "INSERT INTO elbow_out SELECT * FROM engage.elbow_inertia('SELECT id, a, b, c FROM big', 1, 10)",
                       "elbow_out", "INSERT INTO elbow_out (k) VALUES (1)")
    threads = "K-means on threads (1)"
    # reading the points, putting them in canonical order, K-means on threads
    w = None
    for target in ("reading the points", "ordering the points", threads):
        w = cancel_probe(ctl, km, "pg_cancel_backend", target) or w
    for target in (threads,) if QUICK else ("reading the points", "ordering the points", threads):
        cancel_probe(ctl, km, "statement_timeout", target, w)
    # the elbow: k = 1, 2, ... each with threaded restarts, silhouettes
    for n in (3,) if QUICK else (1, 3, 5):
        w = cancel_probe(ctl, elbow, "pg_cancel_backend", f"K-means on threads ({n})") or w
    for n in (2,) if QUICK else (2, 4):
        cancel_probe(ctl, elbow, "statement_timeout", f"K-means on threads ({n})", w)
    worker_wait_probe(ctl, km)
    _, _, ctl = fault(ctl, km, "pg_terminate_backend", threads)
    _, _, ctl = fault(ctl, elbow, "pg_terminate_backend", "K-means on threads (2)")
    # run_analysis: the per-user aggregate, K-means, statistics
    runs = one(ctl, "SELECT count(*) FROM engage.run")
    ra = RunCall("xdr_run", XDR_ROWS)
    w = None
    for target in ("aggregate", "K-means"):
        w = cancel_probe(ctl, ra, "pg_cancel_backend", target) or w
    for target in ("aggregate",) if QUICK else ("aggregate", "K-means"):
        cancel_probe(ctl, ra, "statement_timeout", target, w)
    check("cancelled runs left no row in engage.run (not even failed ones)",
          one(ctl, "SELECT count(*) FROM engage.run") == runs)


# ---------------------------------------------------------------------------
# 2. Repetition: no memory growth

def memory(conn, pid):
    # the bytes in use: a context that takes one more block (they double up
    # to 1 MB, e.g. the catalog caches' as the statistics of the result tables
    # change) grows its total by the block while what it holds does not
    ctx = one(conn, "SELECT sum(used_bytes) FROM pg_backend_memory_contexts")
    st = proc_status(pid)
    return int(ctx), st["RssAnon"], st["VmRSS"], st["VmHWM"], st["RssShmem"]


def repeat(name, sql, expect_error=False):
    conn = connect()
    pid = pid_of(conn)
    at10 = None
    failures = 0
    for i in range(1, CALLS + 1):
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                cur.fetchall()
            if expect_error:
                failures += 1
        except psycopg2.Error:
            if not expect_error:
                failures += 1
        if i == 10:
            at10 = memory(conn, pid)
    at100 = memory(conn, pid)
    conn.close()
    d_ctx = at100[0] - at10[0]
    d_anon = at100[1] - at10[1]
    FIGURES.append((f"{name}: memory contexts after call 10 / 100", f"{at10[0]:,} / {at100[0]:,} bytes"))
    FIGURES.append((f"{name}: RssAnon, VmRSS, VmHWM, RssShmem after call 10 / 100",
                    " / ".join(f"{at10[i] >> 10:,} -> {at100[i] >> 10:,} kB" for i in (1, 2, 3, 4))))
    if failures:
        check(f"{name}: {CALLS} calls", False, f"{failures} calls {'succeeded' if expect_error else 'failed'}")
        return
    check(f"{name}: {CALLS} calls in one backend, memory contexts {at10[0]:,} -> {at100[0]:,} bytes "
          f"(call 10 -> 100)", d_ctx <= CTX_TOLERANCE, f"grew by {d_ctx:,} bytes, tolerance {CTX_TOLERANCE:,}")
    # VmRSS also counts the shared buffers the backend has touched (RssShmem),
    # which grow as it reads more of them: its private memory is RssAnon
    check(f"{name}: private resident memory (RssAnon) {at10[1] >> 10:,} -> {at100[1] >> 10:,} kB "
          f"(call 10 -> 100)", d_anon <= RSS_TOLERANCE,
          f"grew by {d_anon >> 10:,} kB, tolerance {RSS_TOLERANCE >> 10:,} kB")


def repetition(ctl):
    with ctl.cursor() as cur:
        cur.execute("SELECT engage.run_analysis('xdr_small', k_max => 3)")
    repeat("kmeans_cluster of 100,000 points",
           "SELECT count(*), sum(distance) FROM engage.kmeans_cluster('SELECT id, a, b, c FROM mid', 3, n_init => 2)")
    repeat("elbow_inertia of 20,000 points, k = 1..4",
           "SELECT * FROM engage.elbow_inertia('SELECT id, a, b, c FROM mid WHERE id <= 20000', 1, 4, n_init => 2)")
    repeat("normalize_points of 100,000 points",
           "SELECT count(*) FROM engage.normalize_points('SELECT id, a, b, c FROM mid')")
    repeat("kmeans_model and kmeans_predict of 20,000 points",
           "SELECT engage.kmeans_predict(m, ARRAY[1, 2, 3]::float8[]) FROM "
           "engage.kmeans_model('SELECT id, a, b, c FROM mid WHERE id <= 20000', 4, n_init => 2) m")
    repeat("kmeans_assign of 100,000 points",
           "SELECT count(*), sum(a.distance) FROM "
           "engage.kmeans_model('SELECT id, a, b, c FROM mid WHERE id <= 20000', 4, n_init => 2) m, "
           "engage.kmeans_assign(m, 'SELECT id, a, b, c FROM mid') a")
    repeat("traffic_agg of 100,000 rows in 1,000 groups",
           "SELECT count(*), sum((t).dl_bytes[1]) FROM (SELECT engage.traffic_agg(a, b, c, a + b) AS t "
           "FROM mid GROUP BY id % 1000) g")
    repeat("svg_bar_chart, svg_line_chart, svg_cluster_chart",
           "SELECT length(engage.svg_bar_chart(array_agg('app ' || i), array_agg(i * 1e9::float8), 'Bars', 'x', 'y', 'B')) "
           "     + length(engage.svg_line_chart(array_agg(i::float8), array_agg(1e6 / i), 'Elbow', 'k', 'inertia', 3, 'elbow')) "
           "     + length(engage.svg_cluster_chart(ARRAY['1 low', '2 mid', '3 high'], ARRAY[60, 30, 10]::bigint[], "
           "              ARRAY['sessions', 'duration', 'bytes'], ARRAY[[1, 2, 3], [4, 5, 6], [7, 8, 9]]::float8[], 'Clusters')) "
           "FROM generate_series(1, 50) AS i")
    repeat("report_html", "SELECT length(engage.report_html())")
    repeat("run_analysis of 2,000 rows", "SELECT engage.run_analysis('xdr_small', k_max => 2)")
    repeat("kmeans_cluster failing on a NULL key", "SELECT count(*) FROM engage.kmeans_cluster("
           "'SELECT CASE WHEN id = 99999 THEN NULL ELSE id END, a, b, c FROM mid', 3, n_init => 2)",
           expect_error=True)


# ---------------------------------------------------------------------------
# 3. Termination of a run

VIEWS = ["latest_run", "user_engagement", "user_clusters", "cluster_stats", "top_users", "app_usage",
         "app_totals", "top_users_per_app", "top_apps", "elbow"]


# the analysis of the terminated runs (run_analysis('xdr_run'): its source's
# name); the views show the latest run of each analysis
RUN_NAME = "public.xdr_run"


def results(ctl):
    """Per view: row count, the run ids it shows, and an order-independent
    checksum of its rows without run ids and times (the sum of a 64-bit hash
    of each row, so that two runs of the same data compare equal), of the
    analysis RUN_NAME; the run the views show; and a checksum of its report.
    All in one snapshot."""
    parts = []
    for v in VIEWS:
        cols = one(ctl, "SELECT string_agg(format('v.%%I', attname), ', ' ORDER BY attnum) FROM pg_attribute "
                        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
                        "AND attname NOT IN ('run_id', 'started', 'ended', 'warm_start_run')", (f"engage.{v}",))
        parts.append(f"(SELECT count(*) || ' rows, runs ' || COALESCE(string_agg(DISTINCT v.run_id::text, ','), '-') "
                     f"|| ', ' || COALESCE(sum(hashtextextended(ROW({cols})::text, 0)::numeric), 0) "
                     f"FROM engage.{v} v WHERE v.name = '{RUN_NAME}')")
    with ctl.cursor() as cur:
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        cur.execute("SELECT " + ", ".join(parts) + f", (SELECT run_id FROM engage.latest_run WHERE name = '{RUN_NAME}'), "
                    f"md5(engage.report_html(name => '{RUN_NAME}'))")
        row = cur.fetchone()
        cur.execute("COMMIT")
    return dict(zip(VIEWS, row[:-2])), row[-2], row[-1]


def same_but_run(a, b):
    """The views of two runs agree but for the run id."""
    return all(a[v].split(", ", 2)[0] == b[v].split(", ", 2)[0] and
               a[v].split(", ", 2)[2] == b[v].split(", ", 2)[2] for v in VIEWS)


def run_log(ctl):
    with ctl.cursor() as cur:
        cur.execute("SELECT run_id, status FROM engage.run ORDER BY run_id")
        return cur.fetchall()


def run_watched(ctl, call):
    """A run with no fault, watched (when it reaches each step): its run
    id, the watch and its duration in seconds."""
    v = Victim(call.sql).start()
    w = Watch(ctl, v, None, call.state)
    w.follow()
    v.wait(HANG_LIMIT)
    v.conn.close()
    return v.result, w, (v.ended or time.monotonic()) - v.started


def termination(ctl):
    ra = RunCall("xdr_run", XDR_ROWS)
    # the gate of a fault in the elbow step locks the runs a run prunes:
    # 3 successful runs of its analysis at least (keep_runs 3), the last of
    # them the baseline; the first ones of the small table, as runs of the
    # same analysis
    while one(ctl, "SELECT count(*) FROM engage.run WHERE status = 'ok' AND name = %s", (RUN_NAME,)) < 2:
        one(ctl, "SELECT engage.run_analysis('xdr_small', k_max => 2, name => %s)", (RUN_NAME,))
    baseline_run, w, duration = run_watched(ctl, ra)
    FIGURES.append((f"run_analysis of {XDR_ROWS:,} rows", f"{duration:.1f} s, steps from "
                    + ", ".join(f"{s} {t:.1f} s" for s, t in w.seen.items())))
    check(f"a run of {XDR_ROWS:,} rows succeeds ({duration:.1f} s)", baseline_run is not None)
    before, before_run, before_report = results(ctl)
    log = run_log(ctl)

    for how, target in (("pg_terminate_backend", "aggregate"), ("pg_terminate_backend", "K-means"),
                        ("pg_terminate_backend", "elbow"), ("pg_cancel_backend", "elbow"),
                        ("statement_timeout", "K-means")):
        timeout = aim(w, target) if how == "statement_timeout" else None
        name = probe_name(ra, how, target, timeout)
        seq_before = one(ctl, "SELECT last_value FROM engage.run_run_id_seq")
        v, _, ctl = fault(ctl, ra, how, target, timeout)
        if v is None:
            continue
        if how == "pg_terminate_backend":
            stopped = v.ended is not None and v.error is not None and v.sqlstate in (None, "57P01")
        else:
            stopped = v.sqlstate == "57014"
        if not stopped:     # fault() said why
            v.conn.close()
            continue
        now, now_run, now_report = results(ctl)
        check(f"{name}: every view and the report show run {before_run}'s results as before",
              (now, now_run, now_report) == (before, before_run, before_report),
              f"run {now_run}: {now} instead of {before}")
        seq_after = one(ctl, "SELECT last_value FROM engage.run_run_id_seq")
        new_rows = run_log(ctl)[len(log):]
        check(f"{name}: engage.run unchanged: the run's row went with its transaction, only its id "
              f"{seq_after} is used up", run_log(ctl) == log and seq_after == seq_before + 1,
              f"new rows {new_rows}, sequence {seq_before} -> {seq_after}")
        check(f"{name}: no lock left behind",
              one(ctl, "SELECT count(*) FROM pg_locks WHERE pid = %s OR locktype = 'advisory'", (v.pid,)) == 0)
        if how != "pg_terminate_backend":
            after_cancel(name, v, ctl)
        v.conn.close()
        # a following run succeeds, with the same results (but its run id)
        rid, w, _ = run_watched(ctl, ra)
        status = one(ctl, "SELECT status FROM engage.run WHERE run_id = %s", (rid,)) if rid else None
        after, after_run, after_report = results(ctl)
        check(f"{name}: the next run ({rid}) succeeds with the same results",
              status == "ok" and after_run == rid and same_but_run(after, before),
              f"status {status}, views of run {after_run}: {after} instead of {before}")
        before, before_run, before_report = after, after_run, after_report
        log = run_log(ctl)


def main():
    ctl = connect()
    t = time.monotonic()
    setup(ctl)
    FIGURES.append(("set-up (10M-point table, xDR tables)", f"{time.monotonic() - t:.1f} s"))
    for part in (cancellation, repetition, termination):
        t = time.monotonic()
        try:
            part(ctl)
        except Exception as e:  # a broken part fails, the others still run
            check(f"{part.__name__}", False, f"{type(e).__name__}: {e}")
            ctl = connect()
        FIGURES.append((part.__name__, f"{time.monotonic() - t:.1f} s"))
    for name, value in FIGURES:
        if isinstance(value, float):
            value = f"{value * 1000:.0f} ms"
        print(f"# {name}: {value}")
    if LATENCIES:
        lat = sorted(LATENCIES)
        print(f"# cancellation latency (request or timeout to error) over {len(lat)} cancels: "
              f"median {lat[len(lat) // 2] * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms (printed, not checked)")


if __name__ == "__main__":
    finish(main)
