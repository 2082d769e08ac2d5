"""bench/scale.py: engage at operator scale (issue 11), run_analysis against its floor and pandas.

For each size (ENGAGE_BENCH_SCALE_SIZES, default 2,000,000 and 10,000,000
generated xDR rows, TellCo layout), in the same run, alternating, each
repetition in this order:

1. the plain-SQL floor that any per-user analysis pays: one GROUP BY
   subscriber with count(*) and the sums of the 17 measure columns (the
   duration, DL and UL of the 7 applications, total DL and UL), written out
   by COPY (...) TO '/dev/null';
2. engage.run_analysis with its defaults (k = 3, elbow k = 1..10, the 7
   applications) in a fresh backend, with the time of each step (the
   engage.progress NOTICEs) and the backend's peak memory: private memory
   (RssAnon of /proc/<pid>/status, sampled every 20 ms; also per step) and
   VmHWM (which also counts the shared buffers the backend touched);
3. the pandas pipeline of bench/pandas_pipeline.py on the same table, at the
   sizes up to ENGAGE_BENCH_SCALE_PANDAS_ROWS (default 2,000,000: at
   10,000,000 rows it takes about 15 minutes a run).

The ratios of issue 11's goals: run_analysis / floor (at most 3.0 at 2 M
rows), run_analysis's seconds (at most 60 at 10 M rows), pandas /
run_analysis (at least 15 at 10 M rows), the peak private memory against
engage.max_memory.  Then, after the timed runs, where pandas ran, the
agreement checks of bench/analysis.py on the last run (compare()), with the
elbow's inertias allowed 1e-3 above scikit-learn's best of 10 (issue 11's
bound).

With ENGAGE_BENCH_SCALE_DIAG=1 (the default), untimed diagnostics of where
run_analysis's time goes, in each repetition: the plan of the floor (once),
the per-user step's aggregate alone (engagement_agg and traffic_agg grouped
by subscriber, written out like the floor), reading the run's points
(scaling_params, which reads every point once) and kmeans_model alone (the
fit of the K-means step).

Before each run_analysis the result tables are vacuumed (untimed), as
autovacuum would between daily runs, so that every run finds the same
tables: the last 3 runs kept (keep_runs), the space of pruned ones free.

Environment: ENGAGE_BENCH_SCALE_SIZES (default "2000000 10000000"),
ENGAGE_BENCH_SCALE_REPS (default 3), ENGAGE_BENCH_SCALE_PANDAS_ROWS
(default 2000000; 0: never), ENGAGE_BENCH_SCALE_PANDAS_REPS (default: every
repetition; 1 runs the pipeline in the first repetition only, about 12
minutes at 10 M rows), ENGAGE_BENCH_SCALE_DIAG (default 1),
ENGAGE_BENCH_WORK_MEM (default 256MB).

Copyright (c) 2026, engage developers
"""
import os
import re
import sys
import threading
import time

import analysis
import pandas_pipeline
from common import connect, copy_seconds, ensure_xdr, env_int, median, peak_rss_mb, timed

SIZES = [int(x) for x in os.environ.get("ENGAGE_BENCH_SCALE_SIZES", "2000000 10000000").split()]
REPS = env_int("ENGAGE_BENCH_SCALE_REPS", 3)
PANDAS_ROWS = env_int("ENGAGE_BENCH_SCALE_PANDAS_ROWS", 2000000)
PANDAS_REPS = env_int("ENGAGE_BENCH_SCALE_PANDAS_REPS", REPS)
DIAG = env_int("ENGAGE_BENCH_SCALE_DIAG", 1)
WORK_MEM = analysis.WORK_MEM
ELBOW_RTOL = 1e-3

# issue 11's goals: (rows at which the goal is set, bound)
GOAL_FLOOR_RATIO = (2000000, 3.0)
GOAL_SECONDS = (10000000, 60.0)
GOAL_PANDAS_RATIO = (10000000, 15.0)

MSISDN = pandas_pipeline.MSISDN
APPS = sorted(pandas_pipeline.APPS)		# run_analysis's order: by name
MEASURES = ["Dur. (ms)"] + ["%s %s (Bytes)" % (a, d) for a in APPS for d in ("DL", "UL")] \
    + ["Total DL (Bytes)", "Total UL (Bytes)"]
RESULT_TABLES = ["engage.result_%s" % t for t in ("user_engagement", "user_cluster", "cluster_stats",
                                                   "top_users", "app_totals", "top_users_per_app", "elbow")]


def ident(name):
    return '"%s"' % name.replace('"', '""')


def floor_query(table):
    """The floor: count(*) and the 17 sums per subscriber (the NULL subscriber a group too, as in
    run_analysis's scan)."""
    return "SELECT %s, count(*), %s FROM %s GROUP BY 1" % (
        ident(MSISDN), ", ".join("sum(%s)" % ident(c) for c in MEASURES), table)


def aggregate_query(table):
    """The aggregate of run_analysis's per-user step alone: the same two aggregates over the same
    columns, grouped the same way, without the result tables."""
    return ("SELECT s.%s, engage.engagement_agg(s.%s, s.%s, s.%s), engage.traffic_agg(%s) FROM %s AS s GROUP BY 1"
            % (ident(MSISDN), ident("Dur. (ms)"), ident("Total DL (Bytes)"), ident("Total UL (Bytes)"),
               ", ".join("s.%s::double precision, s.%s::double precision"
                         % (ident("%s DL (Bytes)" % a), ident("%s UL (Bytes)" % a)) for a in APPS),
               table))


def points_query(run):
    """The points run_analysis's K-means and elbow read."""
    return ("SELECT msisdn, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) "
            "FROM engage.result_user_engagement WHERE run_id = %d" % run)


def rss_anon_mb(pid):
    """Private resident memory (RssAnon) of process pid in MB, or None once it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


class MemorySampler(threading.Thread):
    """Samples a process's RssAnon every 20 ms until stopped: .samples, (perf_counter, MB) pairs."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.samples = []
        self.halt = threading.Event()

    def sample(self):
        mb = rss_anon_mb(self.pid)
        if mb is not None:
            self.samples.append((time.perf_counter(), mb))

    def run(self):
        while not self.halt.is_set():
            self.sample()
            self.halt.wait(0.02)

    def stop(self):
        self.halt.set()
        self.join()
        self.sample()

    def peak(self, start=float("-inf"), end=float("inf")):
        """The largest sample taken between start and end (perf_counter), in MB."""
        return max([mb for t, mb in self.samples if start <= t <= end] or [0.0])


def timed_run_analysis(table):
    """run_analysis in a fresh backend: (seconds, run id, steps, peak RssAnon MB, VmHWM MB, peak
    RssAnon MB of each step).  A step's window starts where the previous steps' times add up to,
    counted from the call (the server's clock and this one differ by the call's latency)."""
    conn = connect()
    cur = conn.cursor()
    cur.execute("SELECT pg_backend_pid()")
    pid = cur.fetchone()[0]
    sampler = MemorySampler(pid)
    sampler.start()
    start = time.perf_counter()
    try:
        seconds, (run, steps) = timed(lambda: analysis.run_analysis(conn, table))
    finally:
        sampler.stop()
    hwm = peak_rss_mb(pid)
    conn.close()
    step_peaks, at = {}, start
    for name, sec in steps.items():
        step_peaks[name] = sampler.peak(at, at + sec)
        at += sec
    return seconds, run, steps, sampler.peak(), hwm, step_peaks


def floor_plan(conn, table):
    """The floor's plan, run once under EXPLAIN ANALYZE: workers, hash batches, memory and disk."""
    cur = conn.cursor()
    cur.execute("EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) " + floor_query(table))
    plan = [r[0] for r in cur.fetchall()]
    keep = [line.strip() for line in plan
            if re.search(r"Aggregate|Gather|Workers Launched|Batches|Seq Scan", line)]
    return "; ".join(keep)


def diagnostics(table, run):
    """Untimed pieces of run_analysis: {name: seconds}."""
    conn = connect()
    cur = conn.cursor()
    cur.execute("SET work_mem = %s", (WORK_MEM,))
    out = {"per-user aggregate alone": copy_seconds(conn, aggregate_query(table))}
    # as run_analysis reads the per-user tables: through the BRIN index, JIT off
    cur.execute("SET enable_seqscan = off")
    cur.execute("SET jit = off")
    points = points_query(run)
    out["reading the points (scaling_params)"], _ = timed(
        lambda: cur.execute("SELECT count(*) FROM engage.scaling_params(%s)", (points,)))
    out["kmeans_model alone (k = 3, tol 0)"], _ = timed(
        lambda: cur.execute("SELECT (engage.kmeans_model(%s, 3, tol => 0, seed => 0)).iterations", (points,)))
    conn.close()
    return out


def fmt_rows(n):
    return format(n, ",")


def goal(size, spec):
    return size == spec[0]


def main():
    conn = connect()
    cur = conn.cursor()
    cur.execute("SET work_mem = %s", (WORK_MEM,))
    cur.execute("LOAD '$libdir/engage'")		# defines engage.max_memory
    cur.execute("SELECT current_setting('engage.max_memory'), "
                "pg_size_bytes(current_setting('engage.max_memory')) / 1048576.0")
    max_memory, max_memory_mb = cur.fetchone()
    max_memory_mb = float(max_memory_mb)
    print("# Scale: engage.run_analysis against the plain-SQL floor and the pandas pipeline\n")
    print("Generated xDR tables (TellCo layout). floor: `GROUP BY` subscriber with `count(*)` and the sums "
          "of the 17 measure columns, `COPY (...) TO '/dev/null'`; run_analysis: its defaults (k = 3, "
          "elbow k = 1..10, the 7 applications), wall time; pandas: bench/pandas_pipeline.py. "
          "work_mem %s; %d repetitions, alternating; medians.\n" % (WORK_MEM, REPS))
    print("| xDR rows | users | floor (s) | run_analysis (s) | run_analysis / floor | pandas pipeline (s) "
          "| pandas / run_analysis | peak private memory (MB) | agreement |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    sys.stdout.flush()
    goals, steps_rows, diag_rows, notes = [], [], [], []
    failures = 0
    for size in SIZES:
        table = "bench_xdr_%d" % size
        made = ensure_xdr(conn, table, size)
        if made:
            notes.append("generated %s in %.1f s" % (table, made))
        with_pandas = size <= PANDAS_ROWS
        copy_seconds(conn, floor_query(table))		# warm-up: the table into shared buffers
        if DIAG:
            diag_rows.append((size, "plan of the floor", None, floor_plan(conn, table)))
        t_floor, t_engage, t_pandas, anon, hwm = [], [], [], [], []
        s_engage, s_pandas, s_diag, m_engage = {}, {}, {}, {}
        run = ref = None
        for rep in range(REPS):
            t_floor.append(copy_seconds(conn, floor_query(table)))
            cur.execute("VACUUM " + ", ".join(RESULT_TABLES))
            seconds, run, steps, a, h, step_peaks = timed_run_analysis(table)
            t_engage.append(seconds)
            anon.append(a)
            hwm.append(h)
            for name, sec in steps.items():
                s_engage.setdefault(name, []).append(sec)
                m_engage.setdefault(name, []).append(step_peaks[name])
            if DIAG:
                for name, sec in diagnostics(table, run).items():
                    s_diag.setdefault(name, []).append(sec)
            if with_pandas and rep < PANDAS_REPS:
                seconds, ref = timed(lambda: pandas_pipeline.run(conn, table))
                t_pandas.append(seconds)
                for name, sec in ref["times"].items():
                    s_pandas.setdefault(name, []).append(sec)
        cur.execute("SELECT users FROM engage.run WHERE run_id = %s", (run,))
        users = cur.fetchone()[0]
        f, e = median(t_floor), median(t_engage)
        if with_pandas:
            checks, bad, rel, worst, moved = analysis.compare(conn, run, ref, elbow_rtol=ELBOW_RTOL)
            failures += len(bad)
            p = median(t_pandas)
            agree = "%d/%d checks" % (len(checks) - len(bad), len(checks))
            pandas_cols = ("%.2f" % p, "%.1fx" % (p / e))
            notes.append("%s rows, agreement (last run): k = 3 inertia %.3g relative to scikit-learn's "
                         "(negative: lower), elbow inertias at most %.3g above; the pipeline's default tol "
                         "left %d users in another cluster than the fixed point; %s"
                         % (fmt_rows(size), rel, worst, moved, "; ".join(bad) if bad else "all checks agree"))
        else:
            agree = "not checked (no pandas run)"
            pandas_cols = ("not run", "")
        print("| %s | %s | %.2f | %.2f | %.2fx | %s | %s | %.0f | %s |"
              % (fmt_rows(size), fmt_rows(users), f, e, e / f, pandas_cols[0], pandas_cols[1],
                 max(anon), agree), flush=True)

        if goal(size, GOAL_FLOOR_RATIO):
            goals.append("%s rows: run_analysis / floor %.2fx (goal at most %.1fx): %s"
                         % (fmt_rows(size), e / f, GOAL_FLOOR_RATIO[1],
                            "met" if e / f <= GOAL_FLOOR_RATIO[1] else "not met"))
        if goal(size, GOAL_SECONDS):
            goals.append("%s rows: run_analysis %.1f s (goal at most %.0f s): %s"
                         % (fmt_rows(size), e, GOAL_SECONDS[1], "met" if e <= GOAL_SECONDS[1] else "not met"))
        if goal(size, GOAL_PANDAS_RATIO):
            if with_pandas:
                goals.append("%s rows: pandas / run_analysis %.1fx (goal at least %.0fx): %s"
                             % (fmt_rows(size), p / e, GOAL_PANDAS_RATIO[1],
                                "met" if p / e >= GOAL_PANDAS_RATIO[1] else "not met"))
            else:
                goals.append("%s rows: pandas / run_analysis not measured (set ENGAGE_BENCH_SCALE_PANDAS_ROWS=%d)"
                             % (fmt_rows(size), size))
        goals.append("%s rows: peak private memory of the run_analysis backend %.0f MB (VmHWM, with the "
                     "shared buffers it touched, %.0f MB); engage.max_memory %s: %s"
                     % (fmt_rows(size), max(anon), max(hwm), max_memory,
                        "within" if max(anon) <= max_memory_mb else "above"))

        for name, secs in s_engage.items():
            steps_rows.append((size, name, median(secs), median(secs) / e, median(secs) / f,
                               max(m_engage[name])))
        for name, secs in s_diag.items():
            diag_rows.append((size, name, median(secs), "%.2fx the floor" % (median(secs) / f)))
        notes.append("%s rows, every run: floor %s s; run_analysis %s s; pandas %s"
                     % (fmt_rows(size), ", ".join("%.2f" % x for x in t_floor),
                        ", ".join("%.2f" % x for x in t_engage),
                        (", ".join("%.2f" % x for x in t_pandas) + " s") if t_pandas else "not run"))
        if s_pandas:
            notes.append("%s rows, the pandas pipeline's steps (medians): %s"
                         % (fmt_rows(size), ", ".join("%s %.2f s" % (n, median(v)) for n, v in s_pandas.items())))

    print("\n## Goals (issue 11)\n")
    for g in goals:
        print("- " + g)
    print("\n## Where run_analysis's time goes (medians of the engage.progress steps)\n")
    print("| xDR rows | step | seconds | share of run_analysis | x the floor | peak private memory (MB) |")
    print("|---:|---|---:|---:|---:|---:|")
    for size, name, sec, share, ratio, mb in steps_rows:
        print("| %s | %s | %.2f | %.0f%% | %.2fx | %.0f |" % (fmt_rows(size), name, sec, 100 * share, ratio, mb))
    if diag_rows:
        print("\n## Diagnostics (untimed pieces of run_analysis, medians)\n")
        print("| xDR rows | what | seconds | note |")
        print("|---:|---|---:|---|")
        for size, name, sec, note in diag_rows:
            print("| %s | %s | %s | %s |" % (fmt_rows(size), name, "" if sec is None else "%.2f" % sec, note))
    print()
    for n in notes:
        print("- " + n)
    print("- work_mem %s; engage.threads default; result tables vacuumed before each run_analysis (untimed)"
          % WORK_MEM)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
