#!/usr/bin/env bash
# bench/core.sh: the numerical core's K-means at a git ref ("old") and in
# the working tree ("new"), side by side in the same run.
#
# Usage: bash bench/core.sh [GIT_REF]
#   GIT_REF defaults to b376a2f, the commit before the core was split into
#   stage files.  No PostgreSQL needed: the core runs behind
#   test/unit/kmeans_cli, built (make -C test/unit cli) from GIT_REF,
#   extracted with git archive into a temporary directory, and from the
#   working tree.
#
# Points: as bench/kmeans.py, per-user engagement with 3 features
# (sessions, duration, traffic), z-scored; here 1,000,000 users drawn with
# replacement from the 106,855 real users of
# test/data/user_engagement_real.csv, each feature multiplied by a
# log-normal factor (sigma 0.05, fixed seed) so that the points are
# distinct.  Generated once into a float64 file both builds read.
#
# Timing: the fit time the CLI measures around ecore_kmeans_fit (and
# ecore_kmeans_elbow), one thread, so file reading and scaling are not
# timed.  Repetitions alternate old and new (the order swaps every
# repetition); medians and the ratio new / old.  Every run's output
# (inertia, iterations, centroids, sizes, silhouette, elbow curve) and
# labels must be identical between the two builds: the script fails
# otherwise.  On a shared machine times are noisy; so, when valgrind is
# installed, one fit of each build also runs under callgrind, and the
# instructions executed inside ecore_kmeans_fit (deterministic) are
# compared too.
#
# Environment: ENGAGE_BENCH_CORE_POINTS (default 1000000),
# ENGAGE_BENCH_CORE_REPS (fit repetitions, default 5),
# ENGAGE_BENCH_CORE_ELBOW_REPS (elbow k = 1..10 repetitions, default 3; 0
# skips the elbow), ENGAGE_BENCH_CORE_CALLGRIND (default 1; 0 skips the
# instruction count).  Prints a Markdown table; bench/run.sh core saves it
# to bench/results/core.md.
#
# Copyright (c) 2026, engage developers

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ref=${1:-b376a2f}
points=${ENGAGE_BENCH_CORE_POINTS:-1000000}
reps=${ENGAGE_BENCH_CORE_REPS:-5}
elbow_reps=${ENGAGE_BENCH_CORE_ELBOW_REPS:-3}
callgrind=${ENGAGE_BENCH_CORE_CALLGRIND:-1}
python=/usr/bin/python3

log() { printf '==> %s\n' "$*" >&2; }

tmp=$(mktemp -d /tmp/engage-bench-core.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# ---- the two builds --------------------------------------------------------
old_sha=$(git -C "$root" rev-parse --short "$ref^{commit}")
log "building kmeans_cli at $ref ($old_sha)"
mkdir -p "$tmp/old"
git -C "$root" archive "$old_sha" | tar -x -C "$tmp/old"
make -s -C "$tmp/old/test/unit" cli >/dev/null
cp "$tmp/old/test/unit/build/kmeans_cli" "$tmp/cli_old"

new_desc="working tree ($(git -C "$root" rev-parse --short HEAD)"
if [ -n "$(git -C "$root" status --porcelain -- src test/unit)" ]; then
	new_desc="$new_desc + uncommitted changes"
fi
new_desc="$new_desc)"
log "building kmeans_cli from the $new_desc"
make -s -C "$root/test/unit" cli >/dev/null
cp "$root/test/unit/build/kmeans_cli" "$tmp/cli_new"

# ---- the points ------------------------------------------------------------
log "generating $points points"
"$python" - "$root/test/data/user_engagement_real.csv" "$points" "$tmp/points.f64" <<'PY'
import sys
import numpy as np
import pandas as pd

src, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
real = pd.read_csv(src)[["sessions", "dur._(ms)", "total_data"]].to_numpy(float)
rng = np.random.default_rng(2026)
X = real[rng.integers(0, len(real), n)] * rng.lognormal(0.0, 0.05, (n, 3))
np.ascontiguousarray(X).tofile(out)
PY

# ---- runs ------------------------------------------------------------------
# run WHICH TAG ARGS...: one kmeans_cli run; the output without its timings
# goes to $tmp/WHICH.TAG.out (labels to .labels), the value of the line
# named by $want (time_fit or time_elbow) is printed.
run() {
	local which=$1 tag=$2
	shift 2
	"$tmp/cli_$which" raw "$tmp/points.f64" "$points" 3 --k 3 --n-init 10 \
		--labels-out "$tmp/$which.$tag.labels" "$@" >"$tmp/$which.$tag.raw"
	grep -v '^time_' "$tmp/$which.$tag.raw" >"$tmp/$which.$tag.out"
	awk -v k="$want" '$1 == k {print $2}' "$tmp/$which.$tag.raw"
}

# same TAG: do old and new agree on everything but the timings?
same() {
	cmp -s "$tmp/old.$1.out" "$tmp/new.$1.out" &&
		cmp -s "$tmp/old.$1.labels" "$tmp/new.$1.labels"
}

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# bench TAG REPS ARGS...: alternate old/new REPS times; sets t_old, t_new
# (space-separated times) and fails on any difference of the results.
bench() {
	local tag=$1 n=$2 r
	shift 2
	t_old=""
	t_new=""
	for ((r = 0; r < n; r++)); do
		if ((r % 2 == 0)); then
			t_old="$t_old $(run old "$tag" "$@")"
			t_new="$t_new $(run new "$tag" "$@")"
		else
			t_new="$t_new $(run new "$tag" "$@")"
			t_old="$t_old $(run old "$tag" "$@")"
		fi
		if ! same "$tag"; then
			echo "old and new differ on $tag (repetition $((r + 1))):" >&2
			diff "$tmp/old.$tag.out" "$tmp/new.$tag.out" | head -n 20 >&2
			cmp "$tmp/old.$tag.labels" "$tmp/new.$tag.labels" >&2 || true
			exit 1
		fi
	done
}

# row TASK CHECK: one table row from t_old / t_new
row() {
	local mo mn
	# shellcheck disable=SC2086
	mo=$(median $t_old)
	# shellcheck disable=SC2086
	mn=$(median $t_new)
	awk -v task="$1" -v mo="$mo" -v mn="$mn" -v check="$2" -v to="$t_old" -v tn="$t_new" \
		'BEGIN {printf "| %s | %.3f | %.3f | %.3f | %s | %s | %s |\n", task, mo, mn, mn / mo, check, to, tn}'
}

echo "# Numerical core: $ref ($old_sha) vs $new_desc"
echo
echo "$points points x 3 features (sessions, duration, traffic of users drawn from the real"
echo "data set), z-scored; k-means++, one thread; the core's own fit time (kmeans_cli"
echo "time_fit / time_elbow); repetitions alternate old and new; medians."
echo
echo "| task | old (s) | new (s) | new / old | results | old runs (s) | new runs (s) |"
echo "|---|---:|---:|---:|---|---|---|"

want=time_fit
log "fit k = 3, n_init = 10: $reps repetitions each"
bench fit "$reps" --seed 0
inertia=$(awk '$1 == "inertia" {print $2}' "$tmp/new.fit.out")
row "fit k = 3, n_init = 10" "identical (inertia $inertia, labels, centroids)"

if [ "$elbow_reps" -gt 0 ]; then
	want=time_elbow
	log "elbow k = 1..10, n_init = 10: $elbow_reps repetitions each"
	bench elbow "$elbow_reps" --seed 0 --elbow 10
	row "elbow k = 1..10, n_init = 10" "identical (10 inertias, iterations)"
fi

# instructions of one fit in ecore_kmeans_fit, inclusive (callgrind)
fit_instructions() {
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$1" "$tmp/cli_$1" raw \
		"$tmp/points.f64" "$points" 3 --k 3 --n-init 10 --seed 0 >/dev/null 2>&1
	callgrind_annotate --inclusive=yes "$tmp/cg.$1" 2>/dev/null |
		awk '/:ecore_kmeans_fit / && !seen {gsub(",", "", $1); print $1; seen = 1}'
}

if [ "$callgrind" = 1 ] && command -v valgrind >/dev/null; then
	log "fit k = 3, n_init = 10 under callgrind: one run each"
	i_old=$(fit_instructions old)
	i_new=$(fit_instructions new)
	awk -v o="$i_old" -v n="$i_new" 'BEGIN {printf "| fit k = 3, n_init = 10: instructions in ecore_kmeans_fit (callgrind) | %.0f | %.0f | %.6f | deterministic: one run each | | |\n", o, n, n / o}'
fi
