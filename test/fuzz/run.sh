#!/usr/bin/env bash
# test/fuzz/run.sh: run the libFuzzer targets of build/ (see Makefile).
#
#   bash run.sh fuzz SECONDS NAME...   fuzz each build/fuzz_NAME in turn for
#                                      SECONDS, from its committed corpus;
#                                      one summary line per target (runs,
#                                      coverage, corpus, result), then
#                                      "N passed, N failed" (targets)
#   bash run.sh regress 0 NAME...      run every committed input of each
#                                      target once, one process per input;
#                                      "N passed, N failed" (inputs)
#   bash run.sh coverage 0 NAME...     run build/cov/fuzz_NAME over the
#                                      committed and build/ corpora and print
#                                      the line coverage of the sources it
#                                      fuzzes ($LLVM_PROFDATA, $LLVM_COV)
#
# A target fails on any crash, sanitizer report, invariant violation, leak,
# timeout (10 s per input) or out-of-memory (2 GB).  Exits 1 on failure.
#
# Copyright (c) 2026, engage developers

set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

mode=$1
seconds=$2
shift 2

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
passed=0
failed=0

# seed corpus of a target (fuzz_core's predates the naming scheme)
corpus_of() {
	if [ "$1" = core ]; then echo corpus; else echo "corpus_$1"; fi
}

# sources a target fuzzes (for the coverage report)
sources_of() {
	local src
	src=$(cd ../../src && pwd)
	case $1 in
	core) echo "$src/core/core.c $src/core/kmeans.c $src/core/kmeans_seed.c" \
		"$src/core/kmeans_lloyd.c $src/core/kmeans_eval.c $src/core/kmeans_elbow.c" \
		"$src/core/scale.c $src/core/knee.c" ;;
	options) echo "$src/core/core.c $src/core/kmeans.c $src/core/scale.c" ;;
	format) echo "$src/core/svg_format.c" ;;
	*) echo "$src"/core/svg_*.c ;;
	esac
}

# the functions fuzz_options and fuzz_format call directly
functions_of() {
	case $1 in
	options) echo 'ecore_name_equal|ecore_kmeans_init_(parse|name)|ecore_scale_method_(parse|name)' ;;
	format) echo 'ecore_svg_format_(fixed|value|tick)|ecore_svg_nice_ticks|format_exp|put_str|trim_zeros|ilog10' ;;
	esac
}

# extra libFuzzer options of a target (a dictionary, if it has one)
dict_of() {
	if [ -f "$1.dict" ]; then echo "-dict=$1.dict"; fi
}

for name in "$@"; do
	bin=build/fuzz_$name
	seeds=$(corpus_of "$name")
	if [ ! -x "$bin" ] || [ ! -d "$seeds" ]; then
		echo "fuzz_$name: missing $bin or $seeds"
		failed=$((failed + 1))
		continue
	fi
	if [ "$mode" = coverage ]; then
		prof=build/cov/$name
		mkdir -p "build/corpus_$name"
		LLVM_PROFILE_FILE="$prof.profraw" "build/cov/fuzz_$name" -runs=0 \
			"$seeds" "build/corpus_$name" >"$prof.log" 2>&1 &&
			"${LLVM_PROFDATA:-llvm-profdata-14}" merge -sparse "$prof.profraw" -o "$prof.profdata" &&
			"${LLVM_COV:-llvm-cov-14}" report "build/cov/fuzz_$name" -instr-profile="$prof.profdata" \
				$(sources_of "$name") >"$prof.report" 2>&1
		if [ $? -ne 0 ]; then
			echo "fuzz_$name: coverage run failed (see test/fuzz/$prof.log)"
			failed=$((failed + 1))
			continue
		fi
		inputs=$(ls "$seeds" "build/corpus_$name" | wc -l)
		echo "fuzz_$name: line coverage by $inputs corpus inputs (file: lines, missed, cover)"
		awk '/\.c / || /^TOTAL/ {n = split($1, p, "/"); print "  " p[n] ": " $8 ", " $9 ", " $10}' "$prof.report"
		if [ -n "$(functions_of "$name")" ]; then
			"${LLVM_COV:-llvm-cov-14}" report "build/cov/fuzz_$name" -show-functions \
				-instr-profile="$prof.profdata" $(sources_of "$name") 2>/dev/null |
				grep -E "^([^ ]*:)?($(functions_of "$name")) " |
				awk '{print "  " $1 "(): lines " $5 ", missed " $6 ", cover " $7}'
		fi
		passed=$((passed + 1))
		continue
	fi
	if [ "$mode" = regress ]; then
		for f in "$seeds"/*; do
			[ -f "$f" ] || continue
			if "$bin" -timeout=10 -rss_limit_mb=2048 "$f" >"build/$name.regress.log" 2>&1; then
				passed=$((passed + 1))
			else
				echo "FAIL fuzz_$name $f"
				tail -n 30 "build/$name.regress.log"
				failed=$((failed + 1))
			fi
		done
		continue
	fi
	work=build/corpus_$name
	log=build/$name.log
	mkdir -p "$work"
	echo "fuzz_$name: fuzzing for $seconds s (seeds $seeds, log test/fuzz/$log)"
	# shellcheck disable=SC2046
	"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="build/$name-" \
		$(dict_of "$name") "$work" "$seeds" >"$log" 2>&1
	rc=$?
	runs=$(awk '/^stat::number_of_executed_units/ {print $2}' "$log")
	speed=$(awk '/^stat::average_exec_per_sec/ {print $2}' "$log")
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p')
	if [ "$rc" -eq 0 ]; then
		result=ok
		passed=$((passed + 1))
	else
		result="FAILED (exit $rc; artifact: $(ls build/"$name"-* 2>/dev/null | tail -n 1))"
		failed=$((failed + 1))
		grep -E 'ERROR|SUMMARY|fuzz_|runtime error|#[0-9]+ 0x' "$log" | head -n 40
	fi
	echo "fuzz_$name: ${runs:-?} runs in $seconds s (${speed:-?}/s), cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}: $result"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
