# engage: PGXS build of the engage extension
EXTENSION = engage
EXTVERSION = 0.1.0

MODULE_big = engage
OBJS = \
	src/engage.o \
	src/engagement_agg.o \
	src/core/core.o \
	src/core/kmeans.o \
	src/core/kmeans_eval.o \
	src/core/kmeans_lloyd.o \
	src/core/kmeans_seed.o \
	src/kmeans_sql.o \
	src/core/knee.o \
	src/points.o \
	src/core/scale.o \
	src/core/svg.o \
	src/svg_sql.o \
	src/traffic_agg.o \
	src/xdr_generator.o

DATA = sql/$(EXTENSION)--$(EXTVERSION).sql $(wildcard sql/$(EXTENSION)--*--*.sql)

TESTS = $(wildcard test/sql/*.sql)
REGRESS = $(patsubst test/sql/%.sql,%,$(TESTS))
REGRESS_OPTS = --inputdir=test --load-extension=$(EXTENSION)

PG_CPPFLAGS = -I$(srcdir)/src
# the numerical core shares K-means restarts between threads (engage.threads)
SHLIB_LINK += -pthread

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

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
