#!/usr/bin/python3
"""test/faults/faults.py: engage under cancellation, termination and repetition.

Run by test/faults/test_faults.sh, which starts the cluster and passes the
database in the PG* environment.  Three parts:

1. Cancellation.  statement_timeout and pg_cancel_backend (from a second
   session) each stop kmeans_cluster and elbow_inertia on 10 million points
   (3 float8 features) and run_analysis on a 300,000-row xDR table
   (ENGAGE_FAULTS_XDR_ROWS), at several moments of the call (reading the
   points, ordering them, the K-means iterations and restarts on threads).  The time from the cancel
   request to the error in the cancelled session must stay under
   ENGAGE_FAULTS_CANCEL_LIMIT seconds (default 1): the functions check for
   interrupts every 4,096 to 65,536 points and every Lloyd iteration, so a
   cancel takes milliseconds; the limit leaves room for a busy machine.
   After each cancel the session is still usable, its INSERT left no rows,
   it holds no lock, its K-means threads are gone and its memory is given
   back.  One probe slows the worker thread of a 2-restart K-means down (it
   is pinned to one core with busy processes) so that the backend's own
   thread waits for it, and cancels then: the wait must answer the cancel.
   pg_terminate_backend during the threaded K-means and elbow must end the
   backend alone (the server log is checked for a crash afterwards).

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

3. Termination.  pg_terminate_backend during run_analysis at 10%, 40% and
   75% of a run, and pg_cancel_backend and statement_timeout during one,
   leave the results of the previous run whole (a checksum of every view
   and of the report), engage.run as it was (the run's row was inserted by
   the killed transaction, so it is rolled back with it; only the run id
   sequence moves on), no lock behind, and a following run succeeds with
   the same results.

ENGAGE_FAULTS_QUICK=1 cancels at fewer moments (scripts/test.sh).

Prints one line per check ("ok - ..." or "not ok - ...") and the figures,
and ends with "N passed, N failed"; exits non-zero on any failure.
"""

import os
import subprocess
import sys
import threading
import time

import psycopg2

LIMIT = float(os.environ.get("ENGAGE_FAULTS_CANCEL_LIMIT", "1.0"))
BIG_ROWS = int(os.environ.get("ENGAGE_FAULTS_POINTS", "10000000"))
XDR_ROWS = int(os.environ.get("ENGAGE_FAULTS_XDR_ROWS", "300000"))
# fewer cancellation moments (each still covered: points read, ordered,
# K-means on threads, the elbow, run_analysis), for CI
QUICK = os.environ.get("ENGAGE_FAULTS_QUICK", "0") == "1"
CTX_TOLERANCE = 64 * 1024
RSS_TOLERANCE = 16 * 1024 * 1024
CALLS = 100

PASSED = 0
FAILED = 0
FIGURES = []


def ok(name):
    global PASSED
    PASSED += 1
    print(f"ok - {name}", flush=True)


def not_ok(name, why=""):
    global FAILED
    FAILED += 1
    print(f"not ok - {name}" + (f": {why}" if why else ""), flush=True)


def check(name, cond, why=""):
    if cond:
        ok(name)
    else:
        not_ok(name, why)


def connect(**settings):
    conn = psycopg2.connect("")
    conn.autocommit = True
    with conn.cursor() as cur:
        for k, v in settings.items():
            cur.execute(f"SET {k} = %s", (str(v),))
    return conn


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


class Victim:
    """One statement run in its own session, on a thread."""

    def __init__(self, sql, **settings):
        self.conn = connect(**settings)
        self.pid = pid_of(self.conn)
        self.sql = sql
        self.error = None
        self.sqlstate = None
        self.started = None
        self.ended = None
        self.thread = threading.Thread(target=self._run)

    def _run(self):
        self.started = time.monotonic()
        try:
            with self.conn.cursor() as cur:
                cur.execute(self.sql)
        except psycopg2.Error as e:
            self.error = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            self.sqlstate = e.pgcode
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
        cur.execute("CREATE TABLE km_out (key text, cluster integer, distance float8)")
        cur.execute("CREATE TABLE elbow_out (k integer, inertia float8, silhouette float8, "
                    "iterations integer, is_elbow boolean, centroids float8[])")
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


def cancel_probe(ctl, label, sql, method, at, table=None):
    """Cancel sql after `at` seconds by pg_cancel_backend or statement_timeout."""
    name = f"{label}, {method} after {at:g} s"
    if method == "statement_timeout":
        v = Victim(sql, statement_timeout=int(at * 1000))
        v.start()
        v.wait()
        latency = v.ended - (v.started + at)
    else:
        v = Victim(sql).start()
        time.sleep(at)
        requested = time.monotonic()
        if v.thread.is_alive():
            one(ctl, "SELECT pg_cancel_backend(%s)", (v.pid,))
        v.wait()
        latency = v.ended - requested
    if v.sqlstate != "57014":
        not_ok(f"{name}: cancelled", f"the call ended with {v.sqlstate} {v.error or 'success'}"
               f" after {v.ended - v.started:.1f} s")
        v.conn.close()
        return
    FIGURES.append((name, latency))
    check(f"{name}: cancelled {latency * 1000:.0f} ms after the request", latency < LIMIT,
          f"limit {LIMIT:g} s")
    after_cancel(name, v, ctl, table)
    v.conn.close()


def worker_wait_probe(ctl):
    """Cancel while the backend's thread waits for a slowed-down worker thread."""
    name = "kmeans_cluster, pg_cancel_backend while the backend's thread waits for its worker"
    if (os.cpu_count() or 1) < 2:
        ok(f"{name} # skip: needs 2 cores")
        return
    v = Victim("INSERT INTO km_out SELECT * FROM engage.kmeans_cluster("
               "'SELECT id, a, b, c FROM big', 5, n_init => 2, tol => 0, seed => 4)").start()
    hogs = []
    requested = None
    try:
        while v.thread.is_alive():
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
        v.wait()
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    if requested is None:
        not_ok(name, f"the backend's thread never waited for its worker (the call ended with "
                     f"{v.sqlstate or 'success'}); the probe could not cancel there")
    elif v.sqlstate != "57014":
        not_ok(name, f"the call ended with {v.sqlstate} {v.error or 'success'}")
    else:
        latency = v.ended - requested
        FIGURES.append((name, latency))
        check(f"{name}: cancelled {latency * 1000:.0f} ms after the request", latency < LIMIT,
              f"limit {LIMIT:g} s")
        after_cancel(name, v, ctl, "km_out")
    v.conn.close()


def terminate_probe(ctl, label, sql, at):
    """pg_terminate_backend during a threaded K-means: the backend exits
    (FATAL, no longjmp), its threads must be stopped before its memory goes,
    or the server crashes and restarts every session."""
    name = f"{label}, pg_terminate_backend after {at:g} s"
    v = Victim(sql).start()
    time.sleep(at)
    threads = proc_status(v.pid).get("Threads") if v.thread.is_alive() else None
    one(ctl, "SELECT pg_terminate_backend(%s)", (v.pid,))
    v.wait()
    gone = False
    for _ in range(200):
        try:
            if one(ctl, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (v.pid,)) == 0:
                gone = True
                break
        except psycopg2.Error as e:
            not_ok(f"{name}: the other sessions survive", f"{e}".strip().splitlines()[0])
            return connect()
        time.sleep(0.05)
    check(f"{name} ({threads} threads running): the backend exits and the other sessions survive",
          gone and v.error is not None and v.sqlstate in (None, "57P01"),
          f"call ended with {v.sqlstate} {v.error or 'success'}")
    v.conn.close()
    return ctl


def thread_state(pid):
    with open(f"/proc/{pid}/task/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def cancellation(ctl):
    km = "INSERT INTO km_out SELECT * FROM engage.kmeans_cluster('SELECT id, a, b, c FROM big', 3)"
    elbow = "INSERT INTO elbow_out SELECT * FROM engage.elbow_inertia('SELECT id, a, b, c FROM big', 1, 10)"
    label_km = f"kmeans_cluster of {BIG_ROWS:,} points"
    label_elbow = f"elbow_inertia of {BIG_ROWS:,} points"
    # reading the points, putting them in canonical order, K-means on threads
    for at in (0.5, 2.0, 5.0):
        cancel_probe(ctl, label_km, km, "pg_cancel_backend", at, "km_out")
    for at in (3.0,) if QUICK else (1.0, 3.0, 7.0):
        cancel_probe(ctl, label_km, km, "statement_timeout", at, "km_out")
    # the elbow: k = 1, 2, ... each with threaded restarts, silhouettes
    for at in (6.0,) if QUICK else (3.0, 6.0, 10.0):
        cancel_probe(ctl, label_elbow, elbow, "pg_cancel_backend", at, "elbow_out")
    for at in (8.0,) if QUICK else (4.0, 8.0):
        cancel_probe(ctl, label_elbow, elbow, "statement_timeout", at, "elbow_out")
    worker_wait_probe(ctl)
    ctl = terminate_probe(ctl, label_km, km, 6.0)
    ctl = terminate_probe(ctl, label_elbow, elbow, 9.0)
    # run_analysis: the per-user aggregate, K-means, statistics, the elbow
    runs = one(ctl, "SELECT count(*) FROM engage.run")
    ra = "SELECT engage.run_analysis('xdr_run')"
    label = f"run_analysis of {XDR_ROWS:,} rows"
    for at in (0.5, 2.0) if QUICK else (0.5, 2.0, 4.0):
        cancel_probe(ctl, label, ra, "pg_cancel_backend", at)
    for at in (1.0,) if QUICK else (1.0, 3.0):
        cancel_probe(ctl, label, ra, "statement_timeout", at)
    check("cancelled runs left no row in engage.run (not even failed ones)",
          one(ctl, "SELECT count(*) FROM engage.run") == runs)


# ---------------------------------------------------------------------------
# 2. Repetition: no memory growth

def memory(conn, pid):
    ctx = one(conn, "SELECT sum(total_bytes) FROM pg_backend_memory_contexts")
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
        not_ok(f"{name}: {CALLS} calls", f"{failures} calls {'succeeded' if expect_error else 'failed'}")
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


def results(ctl):
    """Per view: row count, the run ids it shows, and an order-independent
    checksum of its rows without run ids and times (the sum of a 64-bit hash
    of each row, so that two runs of the same data compare equal); the run
    the views show; and a checksum of its report.  All in one snapshot."""
    parts = []
    for v in VIEWS:
        cols = one(ctl, "SELECT string_agg(format('v.%%I', attname), ', ' ORDER BY attnum) FROM pg_attribute "
                        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
                        "AND attname NOT IN ('run_id', 'started', 'ended')", (f"engage.{v}",))
        parts.append(f"(SELECT count(*) || ' rows, runs ' || COALESCE(string_agg(DISTINCT v.run_id::text, ','), '-') "
                     f"|| ', ' || COALESCE(sum(hashtextextended(ROW({cols})::text, 0)::numeric), 0) "
                     f"FROM engage.{v} v)")
    with ctl.cursor() as cur:
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        cur.execute("SELECT " + ", ".join(parts) + ", (SELECT run_id FROM engage.latest_run), "
                    "md5(engage.report_html())")
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


def termination(ctl):
    t0 = time.monotonic()
    baseline_run = one(ctl, "SELECT engage.run_analysis('xdr_run')")
    duration = time.monotonic() - t0
    FIGURES.append((f"run_analysis of {XDR_ROWS:,} rows", f"{duration:.1f} s"))
    check(f"a run of {XDR_ROWS:,} rows succeeds ({duration:.1f} s)", baseline_run is not None)
    before, before_run, before_report = results(ctl)
    log = run_log(ctl)

    for how, frac in (("pg_terminate_backend", 0.10), ("pg_terminate_backend", 0.40),
                      ("pg_terminate_backend", 0.75), ("pg_cancel_backend", 0.50),
                      ("statement_timeout", 0.60)):
        at = duration * frac
        name = f"run_analysis, {how} after {at:.1f} s ({frac:.0%} of a run)"
        seq_before = one(ctl, "SELECT last_value FROM engage.run_run_id_seq")
        if how == "statement_timeout":
            v = Victim("SELECT engage.run_analysis('xdr_run')", statement_timeout=int(at * 1000)).start()
        else:
            v = Victim("SELECT engage.run_analysis('xdr_run')").start()
            time.sleep(at)
            one(ctl, f"SELECT {how}(%s)", (v.pid,))
        v.wait()
        if how == "pg_terminate_backend":
            stopped = v.ended is not None and v.error is not None and v.sqlstate in (None, "57P01")
        else:
            stopped = v.sqlstate == "57014"
        if not stopped:
            not_ok(f"{name}: stopped", f"the call ended with {v.sqlstate} {v.error or 'success'}")
            v.conn.close()
            continue
        ok(f"{name}: stopped ({v.sqlstate or v.error})")
        if how == "pg_terminate_backend":
            for _ in range(200):		# until the backend is gone
                if one(ctl, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (v.pid,)) == 0:
                    break
                time.sleep(0.05)
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
        rid = one(ctl, "SELECT engage.run_analysis('xdr_run')")
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
            not_ok(f"{part.__name__}", f"{type(e).__name__}: {e}")
            ctl = connect()
        FIGURES.append((part.__name__, f"{time.monotonic() - t:.1f} s"))
    for name, value in FIGURES:
        if isinstance(value, float):
            value = f"{value * 1000:.0f} ms"
        print(f"# {name}: {value}")
    print(f"{PASSED} passed, {FAILED} failed")
    return 0 if FAILED == 0 and PASSED > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
