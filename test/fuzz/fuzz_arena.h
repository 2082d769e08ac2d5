/*-------------------------------------------------------------------------
 *
 * fuzz_arena.h
 *	  The allocation arena the fuzz targets (and test/unit/test_svg.c) hand
 *	  to engage's cores as their allocator: counts requests and bytes,
 *	  poisons new blocks, can fail a chosen request, frees everything after
 *	  each input (test case).
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ENGAGE_FUZZ_ARENA_H
#define ENGAGE_FUZZ_ARENA_H

#include <stdlib.h>
#include <string.h>

#define FZ_MAX_BLOCKS 256

/* Allocation arena of one input */
typedef struct fz_arena
{
	void	   *blocks[FZ_MAX_BLOCKS];
	int			count;
	size_t		total;
	int			fail_at;		/* fail request number fail_at (-1 never) */
} fz_arena;

/* Allocator callback */
static void *
fz_alloc(void *arg, size_t size)
{
	fz_arena   *a = (fz_arena *) arg;
	void	   *p;

	if (a->count >= FZ_MAX_BLOCKS || a->count == a->fail_at)
		return NULL;
	p = malloc(size ? size : 1);
	if (p == NULL)
		return NULL;
	memset(p, 0x5A, size);
	a->blocks[a->count++] = p;
	a->total += size;
	return p;
}

/* Free the arena */
static void
fz_free(fz_arena *a)
{
	while (a->count > 0)
		free(a->blocks[--a->count]);
	a->total = 0;
}

#endif							/* ENGAGE_FUZZ_ARENA_H */
