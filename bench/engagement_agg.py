"""bench/engagement_agg.py: engage.engagement_agg against the plain SQL it replaces.

On a generated xDR table (ENGAGE_BENCH_ROWS rows, TellCo layout), in two
shapes: grouped by subscriber, and over the whole table; with the bare scan
(SELECT count(*)) and the minimal grouped scan (count(*) per subscriber) as
floors, and the same reading the last measure column (count(UL): every row
deformed up to its 55th column, as any aggregate of the measures must);
grouped, also one core aggregate whose state is passed by reference like
engagement_agg's (avg(UL): a float8[3] updated in place), where count and
float8 sums keep theirs by value inside the hash table's entry.
Each contender runs ENGAGE_BENCH_REPS times, alternating, serial and
with 2 parallel workers; the table gives medians and engage / plain ratios.
Besides the plain float8 sums (what analysts write), the exact plain SQL
(sums over numeric, which engagement_agg's exact results equal) is measured.
"""
import os
import sys

from common import connect, ensure_xdr, env_int, explain_time_ms, median

ROWS = env_int("ENGAGE_BENCH_ROWS", 10000000)
REPS = env_int("ENGAGE_BENCH_REPS", 5)
WORK_MEM = os.environ.get("ENGAGE_BENCH_WORK_MEM", "256MB")
TABLE = "bench_xdr_%d" % ROWS

D, DL, UL, K = '"Dur. (ms)"', '"Total DL (Bytes)"', '"Total UL (Bytes)"', '"MSISDN/Number"'
WHERE = "WHERE %s IS NOT NULL" % K

SHAPES = {
    "whole table": [
        ("floor: SELECT count(*)", "SELECT count(*) FROM %s" % TABLE),
        ("floor: reading the measures, count(UL)", "SELECT count(%s) FROM %s" % (UL, TABLE)),
        ("plain SQL (float8 sums)",
         "SELECT count(*), sum(%s), sum(%s), sum(%s) FROM %s" % (D, DL, UL, TABLE)),
        ("plain SQL (exact, numeric sums)",
         "SELECT count(*), sum(%s::numeric), sum(%s::numeric), sum(%s::numeric) FROM %s"
         % (D, DL, UL, TABLE)),
        ("engage.engagement_agg",
         "SELECT engage.engagement_agg(%s, %s, %s) FROM %s" % (D, DL, UL, TABLE)),
    ],
    "grouped by subscriber": [
        ("floor: count(*) GROUP BY subscriber",
         "SELECT %s, count(*) FROM %s %s GROUP BY 1" % (K, TABLE, WHERE)),
        ("floor: reading the measures, count(UL) GROUP BY subscriber",
         "SELECT %s, count(%s) FROM %s %s GROUP BY 1" % (K, UL, TABLE, WHERE)),
        ("floor: one aggregate with a by-reference state, avg(UL) GROUP BY subscriber",
         "SELECT %s, avg(%s) FROM %s %s GROUP BY 1" % (K, UL, TABLE, WHERE)),
        ("plain SQL (float8 sums)",
         "SELECT %s, count(*), sum(%s), sum(%s), sum(%s) FROM %s %s GROUP BY 1"
         % (K, D, DL, UL, TABLE, WHERE)),
        ("plain SQL (exact, numeric sums)",
         "SELECT %s, count(*), sum(%s::numeric), sum(%s::numeric), sum(%s::numeric) FROM %s %s GROUP BY 1"
         % (K, D, DL, UL, TABLE, WHERE)),
        ("engage.engagement_agg",
         "SELECT %s, engage.engagement_agg(%s, %s, %s) FROM %s %s GROUP BY 1"
         % (K, D, DL, UL, TABLE, WHERE)),
    ],
}

# "2 workers" forces the parallel plan (the planner would often keep the
# grouped shapes serial): Partial Aggregate in 2 workers and the leader.
MODES = {
    "serial": {"max_parallel_workers_per_gather": 0},
    "2 workers": {"max_parallel_workers_per_gather": 2, "parallel_setup_cost": 0,
                  "parallel_tuple_cost": 0},
}


def main():
    conn = connect()
    gen = ensure_xdr(conn, TABLE, ROWS)
    cur = conn.cursor()
    cur.execute("SELECT pg_size_pretty(pg_table_size(%s)), "
                "(SELECT count(DISTINCT %s) FROM %s)" % ("%s", K, TABLE), (TABLE,))
    size, users = cur.fetchone()
    print("# engagement_agg benchmark\n")
    print("Table %s: %d rows, %d subscribers, %s%s; work_mem %s; %d repetitions, "
          "alternating; median execution time (EXPLAIN ANALYZE, TIMING OFF).\n"
          % (TABLE, ROWS, users, size,
             (", generated in %.0f s" % gen) if gen else "", WORK_MEM, REPS))
    print("| shape | mode | query | median ms | vs plain SQL (float8) | vs plain SQL (exact) |")
    print("|---|---|---|---:|---:|---:|")
    for shape, queries in SHAPES.items():
        for mode, settings in MODES.items():
            settings = dict(settings, work_mem="'%s'" % WORK_MEM, jit="on")
            times = {name: [] for name, _ in queries}
            for name, q in queries:		# warm-up, and check the plan
                _, plan = explain_time_ms(conn, q, settings)
                if mode != "serial" and "Gather" not in plan:
                    print("note: no parallel plan for %s" % name, file=sys.stderr)
            for _ in range(REPS):
                for name, q in queries:
                    t, _ = explain_time_ms(conn, q, settings)
                    times[name].append(t)
            med = {name: median(ts) for name, ts in times.items()}
            plain = med["plain SQL (float8 sums)"]
            exact = med["plain SQL (exact, numeric sums)"]
            for name, _ in queries:
                print("| %s | %s | %s | %.0f | %.2fx | %.2fx |"
                      % (shape, mode, name, med[name], med[name] / plain, med[name] / exact))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
