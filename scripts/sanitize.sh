#!/usr/bin/env bash
# scripts/sanitize.sh: engage under AddressSanitizer and UBSan, from a fresh
# Debian 12 machine (make asan-check).
#
#  1. The C unit tests of the core built with -fsanitize=address,undefined
#     (make -C test/unit check-asan).
#  2. engage.so built with gcc -fsanitize=address,undefined and
#     float-cast-overflow (through PG_CFLAGS / PG_LDFLAGS) from a copy of the
#     sources in $ASAN_DIR/build, never in the working tree.
#  3. A private PostgreSQL installation tree in $ASAN_DIR/inst (lib.sh's
#     install_private): the ASan engage.so and engage's control and SQL
#     files, a copy of Debian's postgres binary, and symbolic links to
#     every other file of Debian's lib and share directories.  PostgreSQL
#     finds its lib and share directories relative to its own binary (it
#     is relocatable), so the private cluster, started from that copy,
#     loads $libdir/engage from the tree, and the system-wide engage.so,
#     which the other clusters of the machine use, is not touched.
#  4. A private cluster (lib.sh's start_cluster: $ASAN_DIR/cluster, port
#     $ASAN_PORT, jit off) whose postgres alone runs with the ASan runtime
#     preloaded (LD_PRELOAD, with test/sanitize/asan_init_first.c after it:
#     see there) and reports to the server log,
#     $ASAN_DIR/cluster/postgresql.log; a check that its backends map the
#     ASan engage.so of the tree; the whole pg_regress suite (test/sql,
#     expected/) with its output in $ASAN_DIR/out.
#  5. Positive control: a throwaway module (test/sanitize/canary.c, same
#     flags) makes one UBSan and one ASan report in the same cluster.
#  6. The cluster is stopped and every sanitizer report is sorted by the
#     code in its stack: engage (engage.so, engage's sources), the canary,
#     or other (PostgreSQL itself).
#
# Passes when the unit tests and pg_regress pass, there is no report from
# engage's code, and the canary's two reports, exactly, were found.  Ends
# with "N passed, N failed"; exits non-zero on failure.
#
# Usage: bash scripts/sanitize.sh
#   ENGAGE_ASAN_DIR (default /tmp/engage-asan), ENGAGE_ASAN_PORT (54349)

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set +e
set -o pipefail

ASAN_DIR=${ENGAGE_ASAN_DIR:-/tmp/engage-asan}
ASAN_PORT=${ENGAGE_ASAN_PORT:-54349}
BUILD=$ASAN_DIR/build
INST=$ASAN_DIR/inst
OUT=$ASAN_DIR/out
CLUSTER=$ASAN_DIR/cluster
SERVER_LOG=$CLUSTER/postgresql.log

SAN_FLAGS="-fsanitize=address,undefined -fsanitize=float-cast-overflow -fno-omit-frame-pointer"

# wait until the cluster accepts connections (after a crash, its recovery)
wait_ready() {
	local i
	for i in $(seq 1 120); do
		$PG_BIN/pg_isready -q && return 0
		sleep 1
	done
	return 1
}

set -e
ensure_packages
set +e
stop_cluster "$CLUSTER"
rm -rf "$ASAN_DIR"
mkdir -p "$BUILD" "$OUT"

# ---- 1. unit tests with ASan + UBSan
log "unit tests with ASan + UBSan (test/unit check-asan)"
make -s -C "$ENGAGE_ROOT/test/unit" check-asan 2>&1 | tee "$ASAN_DIR/unit.log"
# shellcheck disable=SC2046
add_counts "unit (ASan + UBSan)" $(suite_counts "$ASAN_DIR/unit.log")

# ---- 2. ASan build of engage.so, out of the working tree
cp -r "$ENGAGE_ROOT/Makefile" "$ENGAGE_ROOT/engage.control" "$ENGAGE_ROOT/src" \
	"$ENGAGE_ROOT/sql" "$BUILD/"
rm -f "$BUILD"/src/*.o "$BUILD"/src/*.bc "$BUILD"/*.so
CFLAGS_ASAN="-Wall -Wextra -Werror -isystem $($PG_CONFIG --includedir-server) $SAN_FLAGS"
log "building engage with $SAN_FLAGS in $BUILD"
if ! make -C "$BUILD" -s PG_CONFIG=$PG_CONFIG PG_CFLAGS="$CFLAGS_ASAN" \
	PG_LDFLAGS="$SAN_FLAGS" >"$ASAN_DIR/build.log" 2>&1; then
	cat "$ASAN_DIR/build.log"
	add_counts "ASan build" 0 1
	finish
fi

# ---- 3. private installation tree (exports ENGAGE_POSTGRES, its postgres)
ENGAGE_BUILD_DIR=$BUILD install_private "$INST" PG_CFLAGS="$CFLAGS_ASAN" PG_LDFLAGS="$SAN_FLAGS"
ASAN_SO=$INST$($PG_CONFIG --pkglibdir)/engage.so
if [ "$(nm -D "$ASAN_SO" | grep -c __asan_report)" -eq 0 ]; then
	log "$ASAN_SO is not instrumented"
	add_counts "ASan build" 0 1
	finish
fi

# the canary module, same flags, next to it (loaded by absolute path)
mkdir -p "$ASAN_DIR/canary"
gcc -shared -fPIC -O1 -g $SAN_FLAGS -I"$($PG_CONFIG --includedir-server)" \
	-o "$ASAN_DIR/canary/canary.so" "$ENGAGE_ROOT/test/sanitize/canary.c" >>"$ASAN_DIR/build.log" 2>&1

# the ASan runtime engage.so was linked with, preloaded into postgres, and
# after it test/sanitize/asan_init_first.c, which has the runtime initialise
# itself before a library constructor could do it inside bindtextdomain()
# (a deadlock: see that file); libubsan comes with engage.so
gcc -shared -fPIC -O1 -Wall -Wextra -o "$ASAN_DIR/asan_init_first.so" \
	"$ENGAGE_ROOT/test/sanitize/asan_init_first.c" -ldl >>"$ASAN_DIR/build.log" 2>&1
PRELOAD="$(ldd "$ASAN_SO" | awk '/libasan\.so/ {print $3}') $ASAN_DIR/asan_init_first.so"
log "preloading $PRELOAD"
# postgres alone gets the runtime (not pg_ctl): a wrapper that pg_ctl
# starts, which execs the tree's postgres with the sanitizer settings.
# The reports go to stderr, the server log (log_path had no effect in
# postgres: the reports still reached stderr)
cat >"$ASAN_DIR/postgres" <<WRAPPER
#!/bin/sh
export LD_PRELOAD="$PRELOAD"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:quarantine_size_mb=64:malloc_context_size=30"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=0"
exec "$ENGAGE_POSTGRES" "\$@"
WRAPPER
chmod 755 "$ASAN_DIR/postgres"

# ---- 4. private cluster (started through the wrapper), pg_regress
chmod 755 "$ASAN_DIR"
trap 'stop_cluster "$CLUSTER"' EXIT
log "starting $ENGAGE_POSTGRES on port $ASAN_PORT with the ASan runtime"
if ! ENGAGE_POSTGRES=$ASAN_DIR/postgres start_cluster "$CLUSTER" "$ASAN_PORT" "jit = off"; then
	cat "$SERVER_LOG"
	add_counts "ASan cluster" 0 1
	finish
fi

# the backends load engage.so from the tree, next to the ASan runtime
psql -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<'SQL'
CREATE DATABASE engage_asan_check;
SQL
maps=$(psql -X -At -d engage_asan_check -c "CREATE EXTENSION engage" \
	-c "SELECT engage.xml_escape('<&>')" \
	-c "SELECT l FROM regexp_split_to_table(pg_read_file('/proc/self/maps'), E'\\n') l WHERE l ~ '(engage|libasan)[.]so'")
if [ "$(echo "$maps" | grep -c "$ASAN_SO")" -gt 0 ] && [ "$(echo "$maps" | grep -c libasan)" -gt 0 ]; then
	log "the backends map $ASAN_SO and the ASan runtime"
	add_counts "ASan engage.so loaded" 1 0
else
	log "the backend does not map $ASAN_SO with the ASan runtime:"
	echo "$maps"
	add_counts "ASan engage.so loaded" 0 1
fi

log "pg_regress (test/sql) against the ASan build, output in $OUT"
cp -r "$ENGAGE_ROOT/expected" "$OUT/expected"
tests=$(cd "$ENGAGE_ROOT/test/sql" && ls ./*.sql | sed 's|^\./||; s|\.sql$||' | tr '\n' ' ')
# shellcheck disable=SC2086
(cd "$ENGAGE_ROOT" && "$(dirname "$($PG_CONFIG --pgxs)")/../test/regress/pg_regress" \
	--inputdir=test --outputdir="$OUT" --load-extension=engage \
	--bindir="$PG_BIN" --host="$PGHOST" --port="$PGPORT" --user="$PGUSER" \
	$tests) 2>&1 | tee "$ASAN_DIR/regress.log"
ok=$(grep -cE '\.\.\. ok' "$ASAN_DIR/regress.log")
bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$ASAN_DIR/regress.log")
if [ $((ok + bad)) -eq 0 ]; then bad=1; fi
[ -f "$OUT/regression.diffs" ] && cat "$OUT/regression.diffs"
add_counts "pg_regress under ASan + UBSan" "$ok" "$bad"

# ---- 5. positive control
log "canary: one UBSan and one ASan report expected"
wait_ready
psql -X -q -d engage_asan_check >/dev/null 2>&1 <<SQL
CREATE FUNCTION canary_ubsan(float8) RETURNS int4
  AS '$ASAN_DIR/canary/canary.so', 'canary_ubsan' LANGUAGE C STRICT;
CREATE FUNCTION canary_asan(int4) RETURNS int4
  AS '$ASAN_DIR/canary/canary.so', 'canary_asan' LANGUAGE C STRICT;
SELECT canary_ubsan(1e300);
SELECT canary_asan(8);
SQL
# the abort restarts the cluster: wait until it accepts connections again
wait_ready

# ---- 6. stop, sort the reports
stop_cluster "$CLUSTER"
trap - EXIT
# report blocks: an ASan report ends with its SUMMARY line; a UBSan report
# is its "runtime error" line and the stack frames right below it
# engage's frames: its module, or its sources (built as src/*.c in $BUILD)
awk -v engage="(engage[.]so|$BUILD/src/|(^|[ (/])src/[a-z_]+[.][ch]:[0-9])" -v details="$ASAN_DIR/reports.txt" '
function flush(   c) {
	if (blk == "") return
	c = (blk ~ /canary/) ? "canary_" kind : (blk ~ engage) ? "engage" : "other"
	n[c]++
	if (c == "engage" || c == "other") print "---- " file "\n" blk > details
	blk = ""
}
FNR == 1 { flush() }
/ERROR: AddressSanitizer|WARNING: AddressSanitizer/ { flush(); kind = "asan"; file = FILENAME; blk = $0 "\n"; next }
/runtime error:/ { flush(); kind = "ubsan"; file = FILENAME; blk = $0 "\n"; next }
kind == "ubsan" && blk != "" && !/^ *#[0-9]+ / { flush() }
blk != "" && /^SUMMARY: AddressSanitizer/ { blk = blk $0 "\n"; flush(); next }
blk != "" { blk = blk $0 "\n" }
END {
	flush()
	printf "%d %d %d %d\n", n["engage"], n["other"], n["canary_ubsan"], n["canary_asan"]
}' "$SERVER_LOG" >"$ASAN_DIR/report-counts"
read -r n_engage n_other n_cub n_cas <"$ASAN_DIR/report-counts"
log "sanitizer reports: engage $n_engage, PostgreSQL/other $n_other, canary UBSan $n_cub, canary ASan $n_cas (server log $SERVER_LOG, details in $ASAN_DIR/reports.txt)"
if [ "$n_engage" -eq 0 ]; then add_counts "no sanitizer report in engage's code" 1 0
else
	head -n 80 "$ASAN_DIR/reports.txt"
	add_counts "no sanitizer report in engage's code ($n_engage reports)" 0 1
fi
if [ "$n_cub" -eq 1 ] && [ "$n_cas" -eq 1 ]; then add_counts "canary reports found" 1 0
else add_counts "canary reports found (UBSan $n_cub, ASan $n_cas; 1 and 1 expected)" 0 1
fi
if [ "$n_other" -gt 0 ]; then
	log "reports outside engage's code (not counted as failures):"
	grep -E 'ERROR: AddressSanitizer|runtime error:' "$ASAN_DIR/reports.txt" | sort | uniq -c | head -n 20
fi

finish
