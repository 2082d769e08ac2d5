"""bench/common.py: helpers shared by engage's benchmarks.

Connection from the PG* environment that bench/run.sh sets; data sets made
with engage.generate_xdr once and reused; timing by EXPLAIN (ANALYZE,
TIMING OFF), which runs the query in full and discards its rows (so that no
client transfer is measured), or by COPY (query) TO '/dev/null', which also
converts every result row to text and writes it out (the server discards
it); the peak memory of a backend from /proc; medians over repetitions that
alternate between the contenders.
"""
import os
import re
import statistics
import time

import psycopg2


def connect():
    conn = psycopg2.connect("")
    conn.autocommit = True
    return conn


def ensure_xdr(conn, table, rows, seed=1):
    """Generate `table` with engage.generate_xdr unless it already holds that data."""
    want = "engage.generate_xdr rows=%d seed=%d" % (rows, seed)
    cur = conn.cursor()
    cur.execute("SELECT obj_description(to_regclass(%s), 'pg_class')", (table,))
    have = cur.fetchone()[0]
    if have == want:
        return 0.0
    start = time.time()
    cur.execute("DROP TABLE IF EXISTS %s" % table)
    cur.execute("SELECT engage.generate_xdr(%s, %s, seed => %s)", (table, rows, seed))
    cur.execute("COMMENT ON TABLE %s IS '%s'" % (table, want))
    cur.execute("VACUUM ANALYZE %s" % table)
    return time.time() - start


def explain_time_ms(conn, query, settings):
    """Run query in full under EXPLAIN ANALYZE (TIMING OFF); its execution time in ms, and the plan."""
    cur = conn.cursor()
    for name, value in settings.items():
        cur.execute("SET %s = %s" % (name, value))
    cur.execute("EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) " + query)
    plan = "\n".join(r[0] for r in cur.fetchall())
    m = re.search(r"Execution Time: ([0-9.]+) ms", plan)
    return float(m.group(1)), plan


def copy_seconds(conn, query):
    """Wall time of COPY (query) TO '/dev/null': the query run in full and its rows written out
    by the server as text, none sent to the client (needs a superuser, as the bench cluster's owner is)."""
    cur = conn.cursor()
    start = time.perf_counter()
    cur.execute("COPY (%s) TO '/dev/null'" % query)
    return time.perf_counter() - start


def timed(fn):
    """(seconds, result) of fn()."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def peak_rss_mb(pid):
    """Peak resident memory (VmHWM) of process pid in MB, from /proc (the server runs on this machine)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def median(xs):
    return statistics.median(xs)


def env_int(name, default):
    return int(os.environ.get(name, default))
