/*-------------------------------------------------------------------------
 *
 * kmeans_seed.c
 *	  Seeding of engage's K-means restarts: the set of distinct rows (for
 *	  the distinct-point check and for never choosing a row twice),
 *	  'random' and greedy k-means++ initialisation.
 *
 * - k-means++ is scikit-learn's greedy variant: first centre uniform,
 *	 then for each next centre n_local_trials candidates are sampled with
 *	 probability proportional to D(x)^2 and the one that lowers the
 *	 potential most is kept.  Candidate sampling (first index whose running
 *	 sum reaches u * potential, u uniform in (0, 1]) is fused into the pass
 *	 that updates the closest distances; candidate potentials are summed
 *	 in the same order, so a sampled value never exceeds the running total.
 *	 If the potential is 0 or underflows (distinct points closer than
 *	 1e-160), the next centre is the first row, cyclically from a random
 *	 start, that differs from every chosen centre.
 *
 * - 'random' draws rows uniformly and rejects rows equal to a chosen
 *	 centre (after KM_RANDOM_TRIES rejections: the same cyclic scan).
 *
 * - With weights (c->wt, a weighted sample), rows are drawn with
 *	 probability proportional to their weight (the first centre, random
 *	 draws) or to weight times D(x)^2, and potentials are weighted: the
 *	 seeding of the points the sample stands for.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "kmeans_internal.h"

/* Draws of the random initialisation before a deterministic scan. */
#define KM_RANDOM_TRIES 64

/* ---------------------------------------------------------------------
 * Row hash set (distinct points, chosen seeds)
 * ---------------------------------------------------------------------
 */

/* Hash of a row; -0.0 and 0.0 hash alike (they compare equal). */
static uint64_t
row_hash(const double *x, size_t d)
{
	uint64_t	h = UINT64_C(0x9E3779B97F4A7C15);
	size_t		j;

	for (j = 0; j < d; j++)
	{
		double		v = x[j] + 0.0;
		uint64_t	b;

		memcpy(&b, &v, sizeof(b));
		h ^= b;
		h *= UINT64_C(0xFF51AFD7ED558CCD);
		h ^= h >> 32;
	}
	h *= UINT64_C(0xC4CEB9FE1A85EC53);
	h ^= h >> 29;
	return h;
}

/* Rows equal (==, so -0.0 equals 0.0)? */
static int
rows_equal(const double *a, const double *b, size_t d)
{
	size_t		j;

	for (j = 0; j < d; j++)
		if (a[j] != b[j])
			return 0;
	return 1;
}

/*
 * Find row i of X in the set (slots hold row index + 1, 0 = empty);
 * if absent and insert is set, add it.  Returns 1 if an equal row was
 * present.
 */
static int
rowset_lookup(size_t *slots, size_t cap, const double *X, size_t d,
			  size_t i, int insert)
{
	const double *x = X + i * d;
	size_t		mask = cap - 1;
	size_t		pos = (size_t) row_hash(x, d) & mask;

	for (;;)
	{
		size_t		s = slots[pos];

		if (s == 0)
		{
			if (insert)
				slots[pos] = i + 1;
			return 0;
		}
		if (rows_equal(X + (s - 1) * d, x, d))
			return 1;
		pos = (pos + 1) & mask;
	}
}

/* Do at least k distinct points exist?  (see kmeans_internal.h) */
int
km_enough_distinct(km_ctx *c, int k)
{
	size_t		start,
				end,
				i,
				found = 0;

	memset(c->hash, 0, c->hash_cap * sizeof(size_t));
	for (start = 0; start < c->n; start = end)
	{
		end = ECORE_CHUNK_END(start, c->n);
		ECORE_CHECK(c->env);
		for (i = start; i < end; i++)
		{
			if (!rowset_lookup(c->hash, c->hash_cap, c->X, c->d, i, 1))
			{
				found++;
				if (found >= (size_t) k)
					return 1;
			}
		}
	}
	return 0;
}

/*
 * A row not equal to any row of the hash set, scanning cyclically from a
 * random start (exists whenever fewer than the number of distinct points
 * are in the set).
 */
static size_t
km_pick_unused_row(km_ctx *c, ecore_rng *rng)
{
	size_t		start = (size_t) ecore_rng_below(rng, (uint64_t) c->n);
	size_t		off,
				i;

	for (off = 0; off < c->n; off++)
	{
		if (off % ECORE_CHECK_CHUNK == 0)
			ECORE_CHECK(c->env);
		i = start + off;
		if (i >= c->n)
			i -= c->n;
		if (!rowset_lookup(c->hash, c->hash_cap, c->X, c->d, i, 0))
			return i;
	}
	return start;				/* unreachable with enough distinct points */
}

/*
 * A row drawn with probability proportional to its weight (a weighted
 * context): the first row whose running sum of weights reaches u times
 * the total, u uniform in (0, 1]; the last row of positive weight if
 * rounding leaves the value above the running sum.
 */
static size_t
km_pick_weighted(km_ctx *c, ecore_rng *rng)
{
	const double *wt = c->wt;
	size_t		n = c->n,
				start,
				end,
				i,
				last = 0;
	double		total = 0.0,
				r,
				run = 0.0;

	for (start = 0; start < n; start = end)
	{
		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		for (i = start; i < end; i++)
			total += wt[i];
	}
	r = ecore_rng_uniform_pos(rng) * total;
	for (start = 0; start < n; start = end)
	{
		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		for (i = start; i < end; i++)
		{
			run += wt[i];
			if (wt[i] > 0.0)
				last = i;
			if (run >= r && wt[i] > 0.0)
				return i;
		}
	}
	return last;
}

/* ---------------------------------------------------------------------
 * Initialisation
 * ---------------------------------------------------------------------
 */

/* k distinct points chosen uniformly (rejection, then a cyclic scan). */
void
km_init_random(km_ctx *c, ecore_rng *rng)
{
	int			j,
				tries;
	size_t		i = 0;

	memset(c->hash, 0, c->hash_cap * sizeof(size_t));
	for (j = 0; j < c->k; j++)
	{
		int			found = 0;

		for (tries = 0; tries < KM_RANDOM_TRIES; tries++)
		{
			i = c->wt != NULL ? km_pick_weighted(c, rng) :
				(size_t) ecore_rng_below(rng, (uint64_t) c->n);
			if (!rowset_lookup(c->hash, c->hash_cap, c->X, c->d, i, 0))
			{
				found = 1;
				break;
			}
		}
		if (!found)
			i = km_pick_unused_row(c, rng);
		rowset_lookup(c->hash, c->hash_cap, c->X, c->d, i, 1);
		memcpy(c->C + (size_t) j * c->d, c->X + i * c->d, c->d * sizeof(double));
	}
}

/* Sort the T sampling values ascending, with their trial numbers. */
static void
pp_sort_r(double *r, int32_t *order, int T)
{
	int			a,
				b;

	for (a = 0; a < T; a++)
		order[a] = a;
	for (a = 1; a < T; a++)
	{
		double		rv = r[a];
		int32_t		ov = order[a];

		b = a - 1;
		while (b >= 0 && r[b] > rv)
		{
			r[b + 1] = r[b];
			order[b + 1] = order[b];
			b--;
		}
		r[b + 1] = rv;
		order[b + 1] = ov;
	}
}

/*
 * Draw T sampling values u * pot, u in (0, 1], sorted with their trial
 * numbers.  Returns 0 (degenerate) if pot is not positive or a value
 * underflows to 0.
 */
static int
pp_draw(km_ctx *c, ecore_rng *rng, double pot)
{
	int			t,
				ok = (pot > 0.0 && isfinite(pot));

	for (t = 0; t < c->T; t++)
	{
		c->rvals[t] = ecore_rng_uniform_pos(rng) * pot;
		if (!(c->rvals[t] > 0.0))
			ok = 0;
	}
	pp_sort_r(c->rvals, c->rorder, c->T);
	return ok;
}

/*
 * One k-means++ pass over the points.  With center != NULL, D^2 (in w) is
 * updated: w[i] = d(x, center)^2 if first, else min(w[i], d(x, center)^2);
 * with center == NULL it is only read.  Meanwhile the running sum of w is
 * compared with the sorted sampling values (if ok): candidate of trial
 * order[t] = first index whose running sum >= r[t].  Returns the total.
 */
KM_INLINE double
pp_update_impl(km_ctx *c, const double *center, int first, int ok,
			   int weighted, size_t d)
{
	const double *X = c->X;
	const double *wt = c->wt;
	double	   *w = c->w;
	size_t		n = c->n,
				start,
				end,
				i,
				last_pos = 0;
	double		run = 0.0;
	int			ri = 0,
				T = ok ? c->T : 0;
	const double *r = c->rvals;
	const int32_t *order = c->rorder;
	size_t	   *cand = c->cand;
	double		next_r = T > 0 ? r[0] : INFINITY;

	for (start = 0; start < n; start = end)
	{
		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		for (i = start; i < end; i++)
		{
			double		v;

			if (center == NULL)
				v = w[i];
			else
			{
				v = sqdist(X + i * d, center, d);
				if (!first)
					v = w[i] < v ? w[i] : v;
				w[i] = v;
			}
			if (weighted)
				v *= wt[i];
			run += v;
			last_pos = v > 0.0 ? i : last_pos;
			if (run >= next_r)
			{
				while (ri < T && run >= r[ri])
				{
					cand[order[ri]] = i;
					ri++;
				}
				next_r = ri < T ? r[ri] : INFINITY;
			}
		}
	}
	/* values beyond the total (rounding): last point of positive weight */
	for (; ri < T; ri++)
		cand[order[ri]] = last_pos;
	return run;
}

/*
 * Potential of candidates t0 .. t0+G-1 (G <= 4): sum over the points of
 * min(w[i], d(x, cand)^2), summed in point order (register accumulators).
 */
KM_INLINE void
pp_candidate_pots_impl(km_ctx *c, int t0, int G, int weighted, size_t d)
{
	const double *X = c->X;
	const double *w = c->w;
	const double *wt = c->wt;
	const double *c0 = c->cand_C + (size_t) t0 * d;
	const double *c1 = G > 1 ? c0 + d : c0;
	const double *c2 = G > 2 ? c0 + 2 * d : c0;
	const double *c3 = G > 3 ? c0 + 3 * d : c0;
	size_t		n = c->n,
				start,
				end,
				i;
	double		a0 = 0.0,
				a1 = 0.0,
				a2 = 0.0,
				a3 = 0.0;

	for (start = 0; start < n; start = end)
	{
		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		for (i = start; i < end; i++)
		{
			const double *x = X + i * d;
			double		wi = w[i];
			double		v0 = sqdist(x, c0, d);

			if (weighted)
			{
				double		f = wt[i];

				a0 += f * (v0 < wi ? v0 : wi);
				if (G > 1)
				{
					double		v1 = sqdist(x, c1, d);

					a1 += f * (v1 < wi ? v1 : wi);
				}
				if (G > 2)
				{
					double		v2 = sqdist(x, c2, d);

					a2 += f * (v2 < wi ? v2 : wi);
				}
				if (G > 3)
				{
					double		v3 = sqdist(x, c3, d);

					a3 += f * (v3 < wi ? v3 : wi);
				}
				continue;
			}
			a0 += v0 < wi ? v0 : wi;
			if (G > 1)
			{
				double		v1 = sqdist(x, c1, d);

				a1 += v1 < wi ? v1 : wi;
			}
			if (G > 2)
			{
				double		v2 = sqdist(x, c2, d);

				a2 += v2 < wi ? v2 : wi;
			}
			if (G > 3)
			{
				double		v3 = sqdist(x, c3, d);

				a3 += v3 < wi ? v3 : wi;
			}
		}
	}
	c->cand_pot[t0] = a0;
	if (G > 1)
		c->cand_pot[t0 + 1] = a1;
	if (G > 2)
		c->cand_pot[t0 + 2] = a2;
	if (G > 3)
		c->cand_pot[t0 + 3] = a3;
}

/*
 * Potentials of candidates t0 .. t0+G-1 of a weighted context: each
 * point's term times its weight (kept apart from the unweighted kernels).
 */
KM_NOINLINE void
pp_candidate_pots_weighted(km_ctx *c, int t0, int G)
{
	switch (G)
	{
		case 1:
			KM_DISPATCH(c->d, pp_candidate_pots_impl(c, t0, 1, 1, D_));
			break;
		case 2:
			KM_DISPATCH(c->d, pp_candidate_pots_impl(c, t0, 2, 1, D_));
			break;
		case 3:
			KM_DISPATCH(c->d, pp_candidate_pots_impl(c, t0, 3, 1, D_));
			break;
		default:
			KM_DISPATCH(c->d, pp_candidate_pots_impl(c, t0, 4, 1, D_));
			break;
	}
}

/* Potentials of the first T candidates, by groups of up to four. */
KM_NOINLINE void
pp_candidate_pots(km_ctx *c, int T)
{
	int			t0,
				G;

	for (t0 = 0; t0 < T; t0 += 4)
	{
		G = T - t0 < 4 ? T - t0 : 4;
		if (c->wt != NULL)
		{
			pp_candidate_pots_weighted(c, t0, G);
			continue;
		}
		switch (G)
		{
			case 1:
				KM_DISPATCH(c->d, pp_candidate_pots_impl(c, t0, 1, 0, D_));
				break;
			case 2:
				KM_DISPATCH(c->d, pp_candidate_pots_impl(c, t0, 2, 0, D_));
				break;
			case 3:
				KM_DISPATCH(c->d, pp_candidate_pots_impl(c, t0, 3, 0, D_));
				break;
			default:
				KM_DISPATCH(c->d, pp_candidate_pots_impl(c, t0, 4, 0, D_));
				break;
		}
	}
}

/* pp_update_impl for the dimension of the data (and weights, if any). */
KM_NOINLINE double
pp_update(km_ctx *c, const double *center, int first, int ok)
{
	double		run = 0.0;

	if (c->wt != NULL)
		KM_DISPATCH(c->d, run = pp_update_impl(c, center, first, ok, 1, D_));
	else
		KM_DISPATCH(c->d, run = pp_update_impl(c, center, first, ok, 0, D_));
	return run;
}

/* Greedy k-means++ (scikit-learn's _kmeans_plusplus). */
void
km_init_pp(km_ctx *c, ecore_rng *rng)
{
	size_t		d = c->d,
				first;
	double		pot;
	int			ok,
				j,
				t,
				T,
				best;

	memset(c->hash, 0, c->hash_cap * sizeof(size_t));
	first = c->wt != NULL ? km_pick_weighted(c, rng) :
		(size_t) ecore_rng_below(rng, (uint64_t) c->n);
	rowset_lookup(c->hash, c->hash_cap, c->X, d, first, 1);
	memcpy(c->C, c->X + first * d, d * sizeof(double));
	if (c->k == 1)
		return;

	pot = pp_update(c, c->C, 1, 0);
	ok = pp_draw(c, rng, pot);
	if (ok)
		(void) pp_update(c, NULL, 0, 1);

	for (j = 1; j < c->k; j++)
	{
		if (ok)
			T = c->T;
		else
		{
			/* degenerate potential: one candidate not yet chosen */
			T = 1;
			c->cand[0] = km_pick_unused_row(c, rng);
		}
		for (t = 0; t < T; t++)
			memcpy(c->cand_C + (size_t) t * d, c->X + c->cand[t] * d,
				   d * sizeof(double));
		pp_candidate_pots(c, T);
		best = 0;
		for (t = 1; t < T; t++)
			if (c->cand_pot[t] < c->cand_pot[best])
				best = t;
		memcpy(c->C + (size_t) j * d, c->cand_C + (size_t) best * d,
			   d * sizeof(double));
		rowset_lookup(c->hash, c->hash_cap, c->X, d, c->cand[best], 1);
		if (j + 1 < c->k)
		{
			/* sampling values of the next centre, from the new potential */
			pot = c->cand_pot[best];
			ok = pp_draw(c, rng, pot);
			(void) pp_update(c, c->C + (size_t) j * d, 0, ok);
		}
	}
}
