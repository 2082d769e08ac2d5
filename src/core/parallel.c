/*-------------------------------------------------------------------------
 *
 * parallel.c
 *	  A loop over the points shared by threads in fixed chunks (see
 *	  parallel.h): the chunks handed out in turn under a mutex, the
 *	  workers' start with signals blocked, the caller's interrupt checks
 *	  and the abort hook that stops and joins the workers.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */

/* pthread_sigmask, sigfillset, nanosleep: POSIX (the unit tests build with -std=c99) */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "parallel.h"

/* A worker thread of a loop */
typedef struct par_worker
{
	struct par_pool *pool;
	int			index;			/* 1 .. nthreads - 1 */
	int			started;
	int			done;			/* under pool->lock */
	pthread_t	thread;
} par_worker;

/* The shared state of one loop */
typedef struct par_pool
{
	pthread_mutex_t lock;
	size_t		next;			/* the next chunk to hand out */
	size_t		nchunks;
	size_t		n;
	size_t		chunk;
	int			stop;			/* no more chunks: set by the abort hook */
	ecore_par_body body;
	void	   *arg;
	int			count;			/* workers */
	par_worker	workers[ECORE_PAR_MAX_THREADS - 1];
} par_pool;

/* Threads of a loop over n items in chunks of chunk items */
int
ecore_par_threads(int nthreads, size_t n, size_t chunk)
{
	size_t		nchunks;

	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > ECORE_PAR_MAX_THREADS)
		nthreads = ECORE_PAR_MAX_THREADS;
	if (chunk < 1)
		chunk = 1;
	nchunks = n / chunk + (n % chunk != 0);
	if (nchunks < (size_t) nthreads)
		nthreads = nchunks < 1 ? 1 : (int) nchunks;
	return nthreads;
}

/* The next chunk of pool (its index), or nchunks when none is left */
static size_t
par_claim(par_pool *pool)
{
	size_t		c;

	pthread_mutex_lock(&pool->lock);
	if (pool->stop || pool->next >= pool->nchunks)
		c = pool->nchunks;
	else
		c = pool->next++;
	pthread_mutex_unlock(&pool->lock);
	return c;
}

/* Run chunk c of pool on thread worker */
static void
par_chunk(par_pool *pool, int worker, size_t c)
{
	size_t		start = c * pool->chunk,
				end = pool->n - start < pool->chunk ? pool->n : start + pool->chunk;

	pool->body(pool->arg, worker, start, end);
}

/* Body of a worker thread: chunks until none is left or the loop stops */
static void *
par_worker_main(void *arg)
{
	par_worker *w = (par_worker *) arg;
	par_pool   *pool = w->pool;
	size_t		c;

	while ((c = par_claim(pool)) < pool->nchunks)
		par_chunk(pool, w->index, c);
	pthread_mutex_lock(&pool->lock);
	w->done = 1;
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

/* Join the started workers of pool */
static void
par_join(par_pool *pool)
{
	int			t;

	for (t = 0; t < pool->count; t++)
		if (pool->workers[t].started)
		{
			pthread_join(pool->workers[t].thread, NULL);
			pool->workers[t].started = 0;
		}
}

/* The abort hook: stop handing out chunks, join the workers */
static void
par_abort(void *arg)
{
	par_pool   *pool = (par_pool *) arg;

	pthread_mutex_lock(&pool->lock);
	pool->stop = 1;
	pthread_mutex_unlock(&pool->lock);
	par_join(pool);
	pthread_mutex_destroy(&pool->lock);
}

/* Is worker t of pool done?  (a worker never started counts as done) */
static int
par_done(par_pool *pool, int t)
{
	int			done;

	if (!pool->workers[t].started)
		return 1;
	pthread_mutex_lock(&pool->lock);
	done = pool->workers[t].done;
	pthread_mutex_unlock(&pool->lock);
	return done;
}

/* The shared loop (see parallel.h) */
void
ecore_par_run(ecore_env *env, int nthreads, size_t n, size_t chunk,
			  ecore_par_body body, void *arg)
{
	par_pool	pool;
	sigset_t	all,
				old;
	size_t		c;
	int			nt,
				t;

	if (chunk < 1)
		chunk = 1;
	nt = ecore_par_threads(nthreads, n, chunk);
	if (nt <= 1 || env->abort_hook != NULL ||
		pthread_mutex_init(&pool.lock, NULL) != 0)
	{
		size_t		start;

		for (start = 0; start < n; start += chunk)
		{
			ECORE_CHECK(env);
			body(arg, 0, start, n - start < chunk ? n : start + chunk);
		}
		return;
	}
	pool.next = 0;
	pool.n = n;
	pool.chunk = chunk;
	pool.nchunks = n / chunk + (n % chunk != 0);
	pool.stop = 0;
	pool.body = body;
	pool.arg = arg;
	pool.count = nt - 1;

	/* the workers start with every signal blocked: signals are the caller's */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (t = 0; t < pool.count; t++)
	{
		par_worker *w = &pool.workers[t];

		w->pool = &pool;
		w->index = t + 1;
		w->done = 0;
		w->started = (pthread_create(&w->thread, NULL, par_worker_main, w) == 0);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	env->abort_hook = par_abort;
	env->abort_arg = &pool;
	for (;;)
	{
		ECORE_CHECK(env);
		c = par_claim(&pool);
		if (c >= pool.nchunks)
			break;
		par_chunk(&pool, 0, c);
	}
	/* each worker finishes its last chunk: wait, answering interrupts */
	for (t = 0; t < pool.count; t++)
		while (!par_done(&pool, t))
		{
			struct timespec us = {0, 100000};

			ECORE_CHECK(env);
			nanosleep(&us, NULL);
		}
	env->abort_hook = NULL;
	env->abort_arg = NULL;
	par_join(&pool);
	pthread_mutex_destroy(&pool.lock);
}
