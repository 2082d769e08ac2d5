#!/usr/bin/env bash
# scripts/fuzz.sh: fuzz engage's plain C code, from a fresh Debian 12 machine.
#
# Installs the missing Debian packages (clang and its libFuzzer runtime, and
# llvm-14 for the coverage report), builds the libFuzzer targets of
# test/fuzz (ASan + UBSan), runs every committed corpus input once, fuzzes
# each target in turn for FUZZ_SECONDS (default 60), then prints the line
# coverage reached.  Ends with "N passed, N failed" (corpus inputs replayed
# plus targets fuzzed); exits non-zero on any finding.  Crashing inputs are
# left in test/fuzz/build/<target>-crash-*, logs in test/fuzz/build/*.log.
#
# Usage: bash scripts/fuzz.sh        (or: make fuzz FUZZ_SECONDS=600)

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
case $FUZZ_SECONDS in
'' | *[!0-9]*)
	echo "FUZZ_SECONDS must be a whole number of seconds, not '$FUZZ_SECONDS'" >&2
	exit 2
	;;
esac
EXTRA_PACKAGES="${EXTRA_PACKAGES:-} llvm-14"
ensure_packages
set +e

FUZZ_DIR=$ENGAGE_ROOT/test/fuzz

# step NAME MAKE-TARGET [VARS]: run make in test/fuzz, add its summary line
step() {
	local name=$1
	shift
	log "$name"
	make -s -C "$FUZZ_DIR" "$@" 2>&1 | tee "$FUZZ_DIR/build/step.out"
	# shellcheck disable=SC2046
	add_counts "$name" $(suite_counts "$FUZZ_DIR/build/step.out")
}

log "building the fuzz targets (test/fuzz)"
make -s -C "$FUZZ_DIR" all || exit 1
step "replaying the committed corpora" regress
step "fuzzing each target for $FUZZ_SECONDS s" run FUZZ_SECONDS="$FUZZ_SECONDS"
log "line coverage of the corpora"
make -s -C "$FUZZ_DIR" coverage 2>&1 | grep -vE '^[0-9]+ passed, [0-9]+ failed$'

finish
