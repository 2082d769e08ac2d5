# scripts/lib.sh: shared set-up for the demo, the tests and the benchmarks.
#
# Sourced, not run.  Installs what a fresh Debian 12 machine lacks, builds
# and installs engage, and starts or stops a private PostgreSQL 15 cluster
# (its own data directory, port and socket directory; initdb as user
# postgres when run as root).

set -euo pipefail

ENGAGE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_BIN=/usr/lib/postgresql/15/bin
PG_CONFIG=/usr/bin/pg_config
# Debian's python3 (with python3-sklearn, -pandas, -psycopg2), whatever
# python3 comes first on PATH.
PYTHON=/usr/bin/python3

# Debian packages that the demo and the tests need
ENGAGE_PACKAGES="make gcc libc6-dev clang libclang-rt-14-dev postgresql-15 \
postgresql-server-dev-15 postgresql-15-cron postgresql-contrib \
python3 python3-numpy python3-pandas python3-sklearn python3-psycopg2 \
libxml2-utils chromium python3-pil"

log() { printf '==> %s\n' "$*" >&2; }

# Counting checks, for the shell suites and the scripts that run suites:
# ok NAME, not_ok NAME [WHY] and check NAME EXPECTED ACTUAL print one line
# per check ("ok - NAME", "not ok - NAME: WHY") and count it in PASS or
# FAIL; add_counts NAME PASSED FAILED adds a part's counts (a suite's
# summary, from suite_counts); finish prints "N passed, N failed" and exits,
# non-zero on any failure or when nothing passed.
PASS=0
FAIL=0
ok() { echo "ok - $1"; PASS=$((PASS + 1)); }
not_ok() { echo "not ok - $1${2:+: $2}"; FAIL=$((FAIL + 1)); }
check() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected '$2', got '$3'"; fi
}
add_counts() {
	log "$1: $2 passed, $3 failed"
	PASS=$((PASS + $2))
	FAIL=$((FAIL + $3))
}
finish() {
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ] && [ "$PASS" -gt 0 ]
	exit $?
}

# suite_counts FILE [STATUS]: "PASSED FAILED" from the last line
# "N passed, N failed" of a suite's output in FILE; "0 1" when there is
# none (the suite died before its summary), and 1 failed at least when
# STATUS, the suite's exit status, is not 0
suite_counts() {
	local line p f
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	if [ -z "$line" ]; then
		echo "0 1"
		return
	fi
	p=$(echo "$line" | awk '{print $1}')
	f=$(echo "$line" | awk '{print $3}')
	if [ "${2:-0}" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	echo "$p $f"
}

# Run a command as root (directly, or through sudo)
as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Install the Debian packages that are missing (only those)
ensure_packages() {
	local missing="" p
	for p in $ENGAGE_PACKAGES ${EXTRA_PACKAGES:-}; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			missing="$missing $p"
		fi
	done
	if [ -n "$missing" ]; then
		log "installing Debian packages:$missing"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
	fi
}

# Build with warnings as errors (through PG_CFLAGS) and install: into
# PostgreSQL's own directories, or, when ENGAGE_INSTALL_DIR is set, into a
# private installation tree there (install_private), which the clusters
# that start_cluster starts then use.  Extra arguments go to make (flags
# of a sanitizer build, for example).
build_and_install() {
	local cflags="-Wall -Wextra -Werror -isystem $($PG_CONFIG --includedir-server)"
	log "building engage (PG_CFLAGS=$cflags $*)"
	make -C "$ENGAGE_ROOT" -s PG_CONFIG=$PG_CONFIG PG_CFLAGS="$cflags" "$@" >/dev/null
	if [ -n "${ENGAGE_INSTALL_DIR:-}" ]; then
		install_private "$ENGAGE_INSTALL_DIR" "$@"
		return
	fi
	log "installing engage into $($PG_CONFIG --pkglibdir)"
	as_root make -C "$ENGAGE_ROOT" -s PG_CONFIG=$PG_CONFIG install >/dev/null
}

# install_private DIR [make arguments]: a private PostgreSQL installation
# tree in DIR (make install DESTDIR=DIR, a copy of Debian's postgres
# binary, symbolic links to every other file of Debian's lib and share
# directories).  PostgreSQL finds its lib and share directories relative
# to its own binary, so a cluster started from that copy loads engage from
# DIR and the system-wide engage is not touched: two checkouts can be
# tested side by side.  Installs the build of ENGAGE_ROOT, or of
# ENGAGE_BUILD_DIR when set (a copy of the sources built elsewhere, as
# scripts/sanitize.sh does).  Exports ENGAGE_POSTGRES, the binary
# start_cluster starts.
install_private() {
	local dir=$1 pkglib share bindir f
	shift
	pkglib=$($PG_CONFIG --pkglibdir)
	share=$($PG_CONFIG --sharedir)
	bindir=$($PG_CONFIG --bindir)
	log "installing engage into the private tree $dir"
	rm -rf "$dir$pkglib/engage.so" "$dir$share/extension"/engage*
	make -C "${ENGAGE_BUILD_DIR:-$ENGAGE_ROOT}" -s PG_CONFIG=$PG_CONFIG DESTDIR="$dir" "$@" install >/dev/null
	mkdir -p "$dir$bindir" "$dir$pkglib" "$dir$share/extension"
	# a copy, not a link: PostgreSQL resolves links to find its directories
	if ! cmp -s "$bindir/postgres" "$dir$bindir/postgres"; then
		cp "$bindir/postgres" "$dir$bindir/postgres.new"
		mv -f "$dir$bindir/postgres.new" "$dir$bindir/postgres"	# even while it runs
	fi
	for f in "$pkglib"/* "$share"/* "$share"/extension/*; do
		local to=$dir$f
		[ -e "$to" ] || [ -L "$to" ] || ln -s "$f" "$to"
	done
	chmod -R a+rX "$dir"
	export ENGAGE_POSTGRES=$dir$bindir/postgres
}

# The OS user that owns the cluster, and the database superuser
cluster_owner() {
	if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

# Run a command as the cluster owner
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# start_cluster DIR PORT [extra postgresql.conf lines]: initdb if needed,
# then start (or keep running) a private cluster with its socket in DIR,
# from ENGAGE_POSTGRES when set (a private installation tree, or a wrapper
# that execs one); when only ENGAGE_INSTALL_DIR is set (a suite run on its
# own after build_and_install), from the tree there, which must exist.
# Sets PGHOST, PGPORT, PGUSER for what follows.
start_cluster() {
	local dir=$1 port=$2 extra=${3:-}
	local owner
	if [ -n "${ENGAGE_INSTALL_DIR:-}" ] && [ -z "${ENGAGE_POSTGRES:-}" ]; then
		if [ ! -x "$ENGAGE_INSTALL_DIR$PG_BIN/postgres" ]; then
			log "ENGAGE_INSTALL_DIR=$ENGAGE_INSTALL_DIR has no private installation tree (build_and_install makes it)"
			return 1
		fi
		export ENGAGE_POSTGRES=$ENGAGE_INSTALL_DIR$PG_BIN/postgres
	fi
	owner=$(cluster_owner)
	mkdir -p "$dir"
	if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		log "initdb $dir/data (as $owner)"
		as_owner $PG_BIN/initdb -D "$dir/data" -U "$owner" -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
		cat >>"$dir/data/postgresql.conf" <<CONF
# engage private cluster
port = $port
listen_addresses = ''
unix_socket_directories = '$dir'
wal_level = minimal
max_wal_senders = 0
fsync = off
synchronous_commit = off
full_page_writes = off
max_worker_processes = 16
max_parallel_workers = 8
$extra
CONF
	fi
	export PGHOST=$dir PGPORT=$port PGUSER=$owner
	if ! as_owner $PG_BIN/pg_ctl -D "$dir/data" status >/dev/null 2>&1; then
		log "starting PostgreSQL on port $port, socket in $dir"
		as_owner $PG_BIN/pg_ctl -D "$dir/data" ${ENGAGE_POSTGRES:+-p "$ENGAGE_POSTGRES"} \
			-l "$dir/postgresql.log" -w -t 60 start >/dev/null
	fi
}

# stop_cluster DIR
stop_cluster() {
	local dir=$1
	if [ -f "$dir/data/PG_VERSION" ]; then
		as_owner $PG_BIN/pg_ctl -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
}

# citus_installed: whether Citus 13.2 is installed into this PostgreSQL
# (its library and control file; a private installation tree links them
# when build_and_install runs after Citus was installed)
citus_installed() {
	[ -f "$($PG_CONFIG --pkglibdir)/citus.so" ] &&
		grep -q "^default_version = '13\.2" "$($PG_CONFIG --sharedir)/extension/citus.control" 2>/dev/null
}

# start_citus_cluster DIR PORT: a local Citus cluster for the distributed
# tests, on 127.0.0.1: a coordinator (DIR/coordinator, PORT) and two
# workers (DIR/worker1 and DIR/worker2, PORT + 1 and PORT + 2), each a
# start_cluster cluster with citus preloaded and CREATE EXTENSION citus in
# its postgres database; the coordinator knows its own address and has the
# two workers as nodes.  Kept running when already running.  Sets PGHOST,
# PGPORT and PGUSER to the coordinator.
start_citus_cluster() {
	local dir=$1 port=$2 i
	local conf="listen_addresses = '127.0.0.1'
shared_preload_libraries = 'citus'
citus.log_distributed_deadlock_detection = off"
	for i in 1 2; do
		start_cluster "$dir/worker$i" $((port + i)) "$conf"
		$PG_BIN/psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'CREATE EXTENSION IF NOT EXISTS citus' >/dev/null
	done
	start_cluster "$dir/coordinator" "$port" "$conf"
	$PG_BIN/psql -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL
CREATE EXTENSION IF NOT EXISTS citus;
SELECT citus_set_coordinator_host('127.0.0.1', $port);
SELECT citus_add_node('127.0.0.1', p) FROM (VALUES ($((port + 1))), ($((port + 2)))) AS w(p)
WHERE NOT EXISTS (SELECT FROM pg_dist_node n WHERE n.nodeport = w.p);
SQL
}

# stop_citus_cluster DIR: stop the coordinator and the workers
stop_citus_cluster() {
	local dir=$1
	stop_cluster "$dir/coordinator"
	stop_cluster "$dir/worker1"
	stop_cluster "$dir/worker2"
}
