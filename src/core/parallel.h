/*-------------------------------------------------------------------------
 *
 * parallel.h
 *	  A loop over the points shared by threads: the points cut into fixed
 *	  chunks that the calling thread and up to nthreads - 1 worker threads
 *	  take in turn, for the passes of the core whose partial results
 *	  combine exactly (the Lloyd steps of kmeans_step.c, whose sums are
 *	  exact: xsum.h), so that the result does not depend on the thread
 *	  count or on which thread took which chunk.
 *
 * The rules are those of the restarts' threads (kmeans.c): the workers
 * start with every signal blocked and never call env (no allocation, no
 * interrupt check: the body of the loop gets only its chunk); the caller
 * takes chunks too and calls ECORE_CHECK(env) before each, with
 * env->abort_hook set so that an interrupt that leaves the core first
 * stops and joins the workers (they stop after their current chunk).  A
 * worker that cannot be started leaves its chunks to the others.
 *
 * Plain C99 with POSIX threads, no PostgreSQL headers.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ECORE_PARALLEL_H
#define ECORE_PARALLEL_H

#include <stddef.h>

#include "core.h"

/* Most threads of one loop (the caller's included) */
#define ECORE_PAR_MAX_THREADS 64

/*
 * Body of a shared loop: items start .. end - 1, run by thread worker (0:
 * the caller, 1 .. nthreads - 1: the workers).  In a worker it must not
 * touch env or anything another thread writes.
 */
typedef void (*ecore_par_body) (void *arg, int worker, size_t start,
								size_t end);

/*
 * Threads a loop over n items in chunks of chunk items runs on: nthreads
 * (0 counts as 1, at most ECORE_PAR_MAX_THREADS), at most one per chunk.
 */
extern int	ecore_par_threads(int nthreads, size_t n, size_t chunk);

/*
 * Run body over items 0 .. n - 1 in chunks of chunk items (chunk >= 1) on
 * ecore_par_threads(nthreads, n, chunk) threads, the caller's included;
 * returns when every chunk is done.  Without threads (one thread, or
 * env->abort_hook already set by an enclosing run of threads) the caller
 * runs every chunk in order.  env->check may longjmp out of it; the
 * workers are then stopped and joined first.
 */
extern void ecore_par_run(ecore_env *env, int nthreads, size_t n,
						  size_t chunk, ecore_par_body body, void *arg);

#endif							/* ECORE_PARALLEL_H */
