# engage: PGXS build of the engage extension
EXTENSION = engage
EXTVERSION = 0.2.0

MODULE_big = engage
# the PostgreSQL glue, one file per SQL feature (src/), then the
# PostgreSQL-free numerical core (src/core/, unit-tested alone in test/unit)
OBJS = \
	src/engage.o \
	src/compat.o \
	src/engagement_agg.o \
	src/traffic_agg.o \
	src/xdr_generator.o \
	src/points.o \
	src/kmeans_sql.o \
	src/run_points.o \
	src/svg_sql.o \
	src/user_engagement.o \
	src/bulk_write.o \
	src/kmeans_agg.o \
	src/hours_agg.o \
	src/core/core.o \
	src/core/kmeans.o \
	src/core/kmeans_seed.o \
	src/core/kmeans_lloyd.o \
	src/core/kmeans_eval.o \
	src/core/kmeans_elbow.o \
	src/core/kmeans_scores.o \
	src/core/scale.o \
	src/core/knee.o \
	src/core/xsum.o \
	src/core/kmeans_step.o \
	src/core/elbow_agg.o \
	src/core/parallel.o \
	src/core/svg_text.o \
	src/core/svg_format.o \
	src/core/svg_doc.o \
	src/core/svg_bar.o \
	src/core/svg_line.o \
	src/core/svg_cluster.o

# The install script of the current version is built (make, into sql/,
# not committed) from these files, concatenated in this order: each may use
# what an earlier one created.
SQL_SOURCES = \
	sql/src/header.sql \
	sql/src/aggregates.sql \
	sql/src/xdr.sql \
	sql/src/clustering.sql \
	sql/src/kmeans_agg.sql \
	sql/src/charts.sql \
	sql/src/analysis.sql \
	sql/src/run_analysis.sql \
	sql/src/scheduling.sql \
	sql/src/report.sql \
	sql/src/report_html.sql

DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
# The install scripts of released versions (never edited again) and every
# upgrade script
DATA = sql/$(EXTENSION)--0.1.0.sql $(wildcard sql/$(EXTENSION)--*--*.sql)
EXTRA_CLEAN = sql/$(EXTENSION)--$(EXTVERSION).sql.tmp

TESTS = $(wildcard test/sql/*.sql)
REGRESS = $(patsubst test/sql/%.sql,%,$(TESTS))
REGRESS_OPTS = --inputdir=test --load-extension=$(EXTENSION)

PG_CPPFLAGS = -I$(srcdir)/src
# the numerical core shares K-means restarts between threads (engage.threads)
SHLIB_LINK += -pthread

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies (Debian's PostgreSQL is built without
# --enable-depend): every object depends on every header of the tree, so
# that a changed structure never leaves a stale object behind
$(OBJS): $(wildcard src/*.h src/core/*.h)

# sql/engage--$(EXTVERSION).sql from SQL_SOURCES (a failed cat leaves no
# half-written script behind)
sql/$(EXTENSION)--$(EXTVERSION).sql: $(SQL_SOURCES) Makefile
	cat $(filter %.sql,$^) > $@.tmp
	mv $@.tmp $@

# The two commands of the README: everything from a fresh Debian 12 machine.
.PHONY: demo test bench
demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

bench:
	bash bench/run.sh

# Fuzz every libFuzzer target (test/fuzz) for FUZZ_SECONDS each
FUZZ_SECONDS ?= 60
.PHONY: fuzz
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh

# Unit tests and pg_regress against an ASan + UBSan build of engage, in a
# private installation tree and cluster (nothing installed system-wide)
.PHONY: asan-check
asan-check:
	bash scripts/sanitize.sh

# Concurrent load with pgbench (16 clients for 60 s: ENGAGE_LOAD_CLIENTS,
# ENGAGE_LOAD_SECONDS) and faults (cancellation, repeated calls, killed
# runs), each on its own throwaway cluster
.PHONY: load faults
load:
	bash test/load/pgbench.sh

faults:
	bash test/faults/test_faults.sh
