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
	link_system_files "$dir"
	chmod -R a+rX "$dir"
	export ENGAGE_POSTGRES=$dir$bindir/postgres
}

# link_system_files DIR: in the private installation tree DIR, a symbolic
# link to every file of Debian's lib, share and extension directories that
# the tree lacks.  install_private makes them; run again (ensure_citus does)
# it adds what was installed since, such as Citus's library and extension
# files in a tree made before Citus was built.
link_system_files() {
	local dir=$1 pkglib share f to
	pkglib=$($PG_CONFIG --pkglibdir)
	share=$($PG_CONFIG --sharedir)
	for f in "$pkglib"/* "$share"/* "$share"/extension/*; do
		to=$dir$f
		[ -e "$to" ] || [ -L "$to" ] || ln -s "$f" "$to"
	done
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

# citus_installed [DESTDIR]: whether Citus 13.2 is installed into this
# PostgreSQL (its library and control file), or under DESTDIR (a build
# installed there by ensure_citus DESTDIR)
citus_installed() {
	local root=${1:-}
	[ -f "$root$($PG_CONFIG --pkglibdir)/citus.so" ] &&
		grep -q "^default_version = '13\.2" "$root$($PG_CONFIG --sharedir)/extension/citus.control" 2>/dev/null
}

# The Citus source that ensure_citus builds: Citus 13.2.2 (the newest
# release for PostgreSQL 15), the tarball's sha256, and the Debian packages
# its build needs beyond ENGAGE_PACKAGES
CITUS_VERSION=13.2.2
CITUS_SHA256=c8fc76dc8294636a52b1a0dd75a20d8b4a36937df6443e30ca84d8d0464a6bb9
CITUS_PACKAGES="libcurl4-openssl-dev liblz4-dev libzstd-dev libkrb5-dev"
# Why ensure_citus returned 2 (the suite's skip line)
CITUS_SKIPPED=""

# ensure_citus [DESTDIR]: Citus 13.2 for the distributed tests.  Returns 0
# when it is installed: already (nothing is done), or built now from the
# tarball that ENGAGE_CITUS_TARBALL names (checked against CITUS_SHA256;
# build dependencies installed, the source extracted into a temporary
# directory, patched (citus_patch_source), configured, built with make -j2
# and installed as root; each step logged, the time printed).  Returns 2,
# with the reason in CITUS_SKIPPED, when it is not installed and
# ENGAGE_CITUS_TARBALL is not set; 1 when the build fails.  With DESTDIR,
# the check and the installation are under DESTDIR (make install
# DESTDIR=...): the build is tested without touching the system (without
# an argument, ENGAGE_CITUS_DESTDIR, if set, is DESTDIR: the suite's skip
# line and build can be tested so).  A private installation tree
# (ENGAGE_INSTALL_DIR) gets links to Citus's files.
ensure_citus() {
	local destdir=${1:-${ENGAGE_CITUS_DESTDIR:-}} tarball=${ENGAGE_CITUS_TARBALL:-} sum work start rc=0
	CITUS_SKIPPED=""
	if ! citus_installed "$destdir"; then
		if [ -z "$tarball" ]; then
			CITUS_SKIPPED="Citus 13.2 is not installed and ENGAGE_CITUS_TARBALL is not set"
			return 2
		fi
		if [ ! -f "$tarball" ]; then
			log "citus: ENGAGE_CITUS_TARBALL=$tarball: no such file"
			return 1
		fi
		sum=$(sha256sum "$tarball" | awk '{print $1}')
		if [ "$sum" != "$CITUS_SHA256" ]; then
			log "citus: $tarball has sha256 $sum, not $CITUS_SHA256 (Citus $CITUS_VERSION)"
			return 1
		fi
		start=$SECONDS
		log "citus: building Citus $CITUS_VERSION from $tarball${destdir:+ into $destdir}"
		EXTRA_PACKAGES="${EXTRA_PACKAGES:-} $CITUS_PACKAGES" ensure_packages || return 1
		work=$(mktemp -d "${TMPDIR:-/tmp}/engage-citus-build.XXXXXX")
		citus_build "$tarball" "$work" "$destdir" || rc=1
		rm -rf "$work"
		if [ $rc -ne 0 ]; then
			log "citus: build failed after $((SECONDS - start)) s"
			return 1
		fi
		log "citus: Citus $CITUS_VERSION built and installed in $((SECONDS - start)) s"
	fi
	if [ -z "$destdir" ] && [ -n "${ENGAGE_INSTALL_DIR:-}" ] && [ -d "$ENGAGE_INSTALL_DIR$PG_BIN" ]; then
		link_system_files "$ENGAGE_INSTALL_DIR"
	fi
}

# citus_build TARBALL WORKDIR DESTDIR: the steps of ensure_citus's build,
# each logged, its output in WORKDIR/<step>.log (the end of it printed on
# a failure)
citus_build() {
	local tarball=$1 work=$2 destdir=$3 src
	citus_step "extract" "$work" tar -xzf "$tarball" -C "$work" || return 1
	src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'citus-*' | head -n 1)
	if [ -z "$src" ] || [ ! -f "$src/configure" ]; then
		log "citus: $tarball has no citus-*/configure"
		return 1
	fi
	citus_step "patch" "$work" citus_patch_source "$src" || return 1
	citus_step "configure" "$work" bash -c 'cd "$1" && ./configure PG_CONFIG="$2"' _ "$src" "$PG_CONFIG" || return 1
	citus_step "make -j2" "$work" make -C "$src" -j2 || return 1
	if [ -n "$destdir" ]; then
		citus_step "make install DESTDIR=$destdir" "$work" make -C "$src" install DESTDIR="$destdir" || return 1
	else
		citus_step "make install" "$work" as_root make -C "$src" install || return 1
	fi
}

# citus_step NAME WORKDIR COMMAND...: one logged step of the build, with
# its time; its output in WORKDIR/NAME.log, the last lines printed when it
# fails
citus_step() {
	local name=$1 work=$2 start=$SECONDS out
	shift 2
	out="$work/$(echo "$name" | tr -c 'A-Za-z0-9\n' '_').log"
	log "citus: $name"
	if ! "$@" >"$out" 2>&1; then
		log "citus: $name failed ($((SECONDS - start)) s); the end of its output:"
		tail -n 30 "$out" >&2
		return 1
	fi
	log "citus: $name done ($((SECONDS - start)) s)"
}

# citus_patch_source SRC: make Citus 13.2's source build against Debian's
# PostgreSQL 15: src/include/pg_version_compat.h defines
# have_createdb_privilege() as a static inline function for PostgreSQL
# before 16, while PostgreSQL 15.x now exports a function of that name
# (commands/dbcommands.h, which the one file calling it includes).  When
# the server's headers declare it, the inline definition (from "static
# inline bool" to its closing brace) is removed; fails when the definition
# is not found exactly once.
citus_patch_source() {
	local file=$1/src/include/pg_version_compat.h n
	if ! grep -q 'have_createdb_privilege' "$($PG_CONFIG --includedir-server)/commands/dbcommands.h"; then
		echo "PostgreSQL's headers do not declare have_createdb_privilege: nothing to patch"
		return 0
	fi
	if [ ! -f "$file" ]; then
		echo "no $file"
		return 1
	fi
	n=$(grep -c '^have_createdb_privilege(void)$' "$file")
	if [ "$n" -ne 1 ]; then
		echo "$file: $n definitions of have_createdb_privilege(void), expected 1"
		return 1
	fi
	awk '
		held != "" {
			if ($0 == "have_createdb_privilege(void)") { skip = 1; held = ""; next }
			print held; held = ""
		}
		skip { if ($0 == "}") { skip = 0; removed = 1 } next }
		$0 == "static inline bool" { held = $0; next }
		{ print }
		END { if (held != "") print held; exit !(removed && !skip) }
	' "$file" >"$file.new" || { echo "$file: the definition of have_createdb_privilege has no end"; return 1; }
	if grep -q 'have_createdb_privilege(void)' "$file.new"; then
		echo "$file: have_createdb_privilege(void) still there"
		return 1
	fi
	mv "$file.new" "$file"
	echo "removed the static inline have_createdb_privilege(void) from $file"
}

# start_citus_cluster DIR PORT [EXTRA]: a local Citus cluster for the
# distributed tests, on 127.0.0.1: a coordinator (DIR/coordinator, PORT)
# and two workers (DIR/worker1 and DIR/worker2, PORT + 1 and PORT + 2),
# each a start_cluster cluster with citus preloaded and CREATE EXTENSION
# citus in its postgres database; the coordinator knows its own address and
# has the two workers as nodes.  EXTRA: more postgresql.conf lines for all
# three (as start_cluster's, written when a cluster is made).  Kept running
# when already running.  Sets PGHOST, PGPORT and PGUSER to the coordinator.
# Returns 1, with a message, when a step fails (DIR/*/postgresql.log then
# tells more).
start_citus_cluster() {
	local dir=$1 port=$2 i
	local conf="listen_addresses = '127.0.0.1'
shared_preload_libraries = 'citus'
citus.log_distributed_deadlock_detection = off
${3:-}"
	for i in 1 2; do
		if ! start_cluster "$dir/worker$i" $((port + i)) "$conf" ||
			! $PG_BIN/psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'CREATE EXTENSION IF NOT EXISTS citus' >/dev/null; then
			log "citus: worker $i (port $((port + i))) did not start with Citus"
			return 1
		fi
	done
	if ! start_cluster "$dir/coordinator" "$port" "$conf" ||
		! $PG_BIN/psql -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL; then
CREATE EXTENSION IF NOT EXISTS citus;
SELECT citus_set_coordinator_host('127.0.0.1', $port);
SELECT citus_add_node('127.0.0.1', p) FROM (VALUES ($((port + 1))), ($((port + 2)))) AS w(p)
WHERE NOT EXISTS (SELECT FROM pg_dist_node n WHERE n.nodeport = w.p);
SQL
		log "citus: the coordinator (port $port) did not start with its two workers"
		return 1
	fi
}

# stop_citus_cluster DIR: stop the coordinator and the workers
stop_citus_cluster() {
	local dir=$1
	stop_cluster "$dir/coordinator"
	stop_cluster "$dir/worker1"
	stop_cluster "$dir/worker2"
}
