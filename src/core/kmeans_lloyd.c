/*-------------------------------------------------------------------------
 *
 * kmeans_lloyd.c
 *	  Lloyd iterations of one K-means restart: E-steps (plain Lloyd and
 *	  Hamerly's bounds), M-step with the relocation of empty clusters, and
 *	  the loop with its stopping rules (km_lloyd).
 *
 * - Lloyd iterations as scikit-learn's _kmeans_single_lloyd: iteration i
 *	 assigns every point to its nearest centroid (E-step), then moves each
 *	 centroid to the mean of its points (M-step).  Stop when no assignment
 *	 changed ("strict" convergence), or when the total squared centroid
 *	 shift <= tol * mean feature variance, or after max_iter; if not
 *	 strictly converged, one more E-step makes labels and inertia match the
 *	 final centroids.
 *
 * - Centroid sums are maintained incrementally (a point that changes
 *	 cluster is subtracted from one sum and added to the other, in point
 *	 order) and recomputed from scratch, in point order, whenever more than
 *	 n changes have accumulated since the last recomputation.  The sums are
 *	 thus a deterministic function of the sequence of label changes, which
 *	 makes the two E-step strategies below give bit-identical results.
 *
 * - E-step strategies: ECORE_ALGO_LLOYD computes the k distances of every
 *	 point; ECORE_ALGO_HAMERLY (default) keeps for every point an upper
 *	 bound on the distance to its centroid and a lower bound on the
 *	 distance to every other centroid (Hamerly 2010).  The bounds are
 *	 stored relative to cumulative drifts (P[j]: total shift of centroid
 *	 j; Mo[j]: total of the largest shift among the other centroids), so
 *	 that they need no per-point update after an M-step and a point that
 *	 cannot change is skipped by a read-only test.  Per chunk of points a
 *	 branch-free filter collects the points whose bounds fail, then those
 *	 get the exact distance to their centroid and, if still needed, the k
 *	 distances.  Bound tests use a safety margin of 1e-8 times the
 *	 diameter of the data (and of user initial centroids), far above the
 *	 accumulated rounding of the bounds, so a point is skipped only when
 *	 plain Lloyd would give it the same label; the points not skipped go
 *	 through the very same distance code as plain Lloyd.  Hence the two
 *	 strategies return the same labels, centroids and iterations, bit for
 *	 bit (tested in test/unit and by the fuzzer).
 *
 * - Weights (a weighted sample of the elbow, c->wt): each point counts
 *	 wt[i] times in the means and the inertia.  The E-steps are the same;
 *	 the M-step recomputes the weighted sums and weights of the clusters
 *	 from the labels, in point order (instead of the E-steps' incremental
 *	 sums), so the weighted path is as deterministic.
 *
 * - Empty cluster (after an E-step): it takes the point farthest from its
 *	 assigned centroid (ties: lowest index) among the points whose cluster
 *	 has at least two points; that point's label changes to the empty
 *	 cluster.  Several empty clusters are served in ascending index order
 *	 (scikit-learn: the n_empty farthest points, same centroids).
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "kmeans_internal.h"

/* Move point x from cluster a to cluster b in the sums and counts. */
KM_INLINE void
move_point(double *sums, int64_t *counts, const double *x, int32_t a,
		   int32_t b, size_t d)
{
	vec_sub(sums + (size_t) a * d, x, d);
	vec_add(sums + (size_t) b * d, x, d);
	counts[a]--;
	counts[b]++;
}

/*
 * First E-step of a restart: every point to its nearest centroid, sums
 * and counts from scratch in point order, Hamerly bounds if wanted.
 */
KM_INLINE void
estep_first_impl(km_ctx *c, int bounds, size_t d)
{
	const double *X = c->X;
	const double *C = c->C;
	double	   *sums = c->sums;
	int64_t    *counts = c->counts;
	int32_t    *labels = c->labels;
	double	   *v = c->v;
	double	   *w = c->w;
	size_t		n = c->n,
				start,
				end,
				i;
	int			k = c->k;

	memset(sums, 0, (size_t) k * d * sizeof(double));
	memset(counts, 0, (size_t) k * sizeof(int64_t));
	for (start = 0; start < n; start = end)
	{
		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		for (i = start; i < end; i++)
		{
			const double *x = X + i * d;
			double		b1,
						b2;
			int32_t		b = nearest2(x, C, k, d, &b1, &b2);

			labels[i] = b;
			vec_add(sums + (size_t) b * d, x, d);
			counts[b]++;
			if (bounds)
			{
				v[i] = sqrt(b1);
				w[i] = sqrt(b2);
			}
		}
	}
}

/* Plain Lloyd E-step: k distances per point; returns label changes. */
KM_INLINE size_t
estep_lloyd_impl(km_ctx *c, size_t d)
{
	const double *X = c->X;
	const double *C = c->C;
	double	   *sums = c->sums;
	int64_t    *counts = c->counts;
	int32_t    *labels = c->labels;
	size_t		n = c->n,
				start,
				end,
				i,
				changes = 0;
	int			k = c->k;

	for (start = 0; start < n; start = end)
	{
		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		for (i = start; i < end; i++)
		{
			const double *x = X + i * d;
			double		b1,
						b2;
			int32_t		b = nearest2(x, C, k, d, &b1, &b2);
			int32_t		a = labels[i];

			if (b != a)
			{
				move_point(sums, counts, x, a, b, d);
				labels[i] = b;
				changes++;
			}
		}
	}
	return changes;
}

/*
 * Hamerly E-step.  Upper bound of point i: v[i] + P[label]; lower bound
 * on the other centroids: w[i] - Mo[label]; a point is skipped when its
 * upper bound is below max(lower bound, half the distance from its
 * centroid to the nearest other one) minus the margin.  Per chunk: a
 * branch-free filter collects the points that fail the test (most are
 * skipped, so branches would mispredict), then those get their exact
 * distance to their centroid (tightened upper bound) and, if still
 * failing, the k distances.  Returns label changes.
 */
KM_INLINE size_t
estep_hamerly_impl(km_ctx *c, size_t d)
{
	const double *X = c->X;
	const double *C = c->C;
	const double *P = c->P;
	const double *Mo = c->Mo;
	const double *sh = c->s_half;
	double	   *v = c->v;
	double	   *w = c->w;
	int32_t    *labels = c->labels;
	double	   *sums = c->sums;
	int64_t    *counts = c->counts;
	uint32_t   *idx = c->scratch_idx;
	double	   *bnd = c->scratch_bound;
	double		margin = c->margin;
	size_t		n = c->n,
				start,
				end,
				i,
				changes = 0;
	int			k = c->k;

	for (start = 0; start < n; start = end)
	{
		size_t		m = 0,
					m2 = 0,
					q;

		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		/* 1: points whose bounds do not prove the label (branch-free) */
		for (i = start; i < end; i++)
		{
			int32_t		a = labels[i];
			double		ub = v[i] + P[a];
			double		lb = w[i] - Mo[a];
			double		bound = (sh[a] > lb ? sh[a] : lb) - margin;

			idx[m] = (uint32_t) (i - start);
			bnd[m] = bound;
			m += (ub > bound);
		}
		/* 2: tighten the upper bound with the exact distance */
		for (q = 0; q < m; q++)
		{
			size_t		ii = start + idx[q];
			int32_t		a = labels[ii];
			double		ub;

			if (q + 8 < m)
				KM_PREFETCH(X + (start + idx[q + 8]) * d);
			ub = sqrt(sqdist(X + ii * d, C + (size_t) a * d, d));
			v[ii] = ub - P[a];
			idx[m2] = idx[q];
			m2 += (ub > bnd[q]);
		}
		/* 3: the k distances */
		for (q = 0; q < m2; q++)
		{
			size_t		ii = start + idx[q];
			const double *x = X + ii * d;
			int32_t		a = labels[ii];
			double		b1,
						b2;
			int32_t		b = nearest2(x, C, k, d, &b1, &b2);

			v[ii] = sqrt(b1) - P[b];
			w[ii] = sqrt(b2) + Mo[b];
			if (b != a)
			{
				move_point(sums, counts, x, a, b, d);
				labels[ii] = b;
				changes++;
			}
		}
	}
	return changes;
}

/* estep_first_impl for the dimension of the data. */
KM_NOINLINE void
estep_first(km_ctx *c, int bounds)
{
	KM_DISPATCH(c->d, estep_first_impl(c, bounds, D_));
}

/* estep_lloyd_impl for the dimension of the data. */
KM_NOINLINE size_t
estep_lloyd(km_ctx *c)
{
	size_t		changes = 0;

	KM_DISPATCH(c->d, changes = estep_lloyd_impl(c, D_));
	return changes;
}

/* estep_hamerly_impl for the dimension of the data. */
KM_NOINLINE size_t
estep_hamerly(km_ctx *c)
{
	size_t		changes = 0;

	KM_DISPATCH(c->d, changes = estep_hamerly_impl(c, D_));
	return changes;
}

/* Half the distance of every centroid to its nearest other centroid. */
static void
compute_s_half(km_ctx *c)
{
	int			a,
				j,
				k = c->k;
	size_t		d = c->d;

	for (a = 0; a < k; a++)
		c->s_half[a] = INFINITY;
	for (a = 0; a < k; a++)
	{
		for (j = a + 1; j < k; j++)
		{
			double		h = 0.5 * sqrt(sqdist(c->C + (size_t) a * d,
											  c->C + (size_t) j * d, d));

			if (h < c->s_half[a])
				c->s_half[a] = h;
			if (h < c->s_half[j])
				c->s_half[j] = h;
		}
	}
}

/* Recompute sums and counts from scratch in point order. */
static void
resync_sums(km_ctx *c)
{
	size_t		n = c->n,
				d = c->d,
				start,
				end,
				i,
				j;

	double	   *sums = c->sums;
	int64_t    *counts = c->counts;
	const int32_t *labels = c->labels;
	const double *X = c->X;

	memset(sums, 0, (size_t) c->k * d * sizeof(double));
	memset(counts, 0, (size_t) c->k * sizeof(int64_t));
	for (start = 0; start < n; start = end)
	{
		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		for (i = start; i < end; i++)
		{
			const double *x = X + i * d;
			double	   *s = sums + (size_t) labels[i] * d;

			for (j = 0; j < d; j++)
				s[j] += x[j];
			counts[labels[i]]++;
		}
	}
}

/*
 * Weighted sums and weights of the clusters, from scratch in point order
 * (a weighted context: the M-step's means are weighted means).  They
 * replace the sums the E-steps maintain (unweighted) before every M-step.
 */
static void
weighted_sums(km_ctx *c)
{
	size_t		n = c->n,
				d = c->d,
				start,
				end,
				i,
				j;
	double	   *sums = c->sums;
	double	   *wsum = c->wsum;
	const double *wt = c->wt;
	const int32_t *labels = c->labels;
	const double *X = c->X;

	memset(sums, 0, (size_t) c->k * d * sizeof(double));
	for (j = 0; j < (size_t) c->k; j++)
		wsum[j] = 0.0;
	for (start = 0; start < n; start = end)
	{
		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		for (i = start; i < end; i++)
		{
			const double *x = X + i * d;
			double	   *s = sums + (size_t) labels[i] * d;

			for (j = 0; j < d; j++)
				s[j] += wt[i] * x[j];
			wsum[labels[i]] += wt[i];
		}
	}
}

/*
 * Serve the empty clusters: each takes the point farthest from its
 * assigned (current) centroid, among points whose cluster keeps at least
 * one point; ties to the lowest index.  Returns the number of moves.
 */
static int
relocate_empty(km_ctx *c)
{
	int			m = 0,
				e,
				j;
	size_t		n = c->n,
				d = c->d,
				start,
				end,
				i;

	for (j = 0; j < c->k; j++)
		if (c->counts[j] == 0)
			c->empties[m++] = j;
	for (e = 0; e < m; e++)
	{
		int32_t		target = c->empties[e];
		size_t		best = n;
		double		bestd = -1.0;
		int32_t		a;

		for (start = 0; start < n; start = end)
		{
			end = ECORE_CHUNK_END(start, n);
			ECORE_CHECK(c->env);
			for (i = start; i < end; i++)
			{
				double		dd;

				a = c->labels[i];
				if (c->counts[a] < 2)
					continue;
				dd = sqdist(c->X + i * d, c->C + (size_t) a * d, d);
				if (dd > bestd)
				{
					bestd = dd;
					best = i;
				}
			}
		}
		if (best == n)
			break;				/* impossible: n >= k */
		a = c->labels[best];
		move_point(c->sums, c->counts, c->X + best * d, a, target, d);
		c->labels[best] = target;
		/* force a full recomputation of its bounds */
		c->v[best] = INFINITY;
		if (c->w != NULL)
			c->w[best] = -INFINITY;
		c->changes_since_sync++;
	}
	return m;
}

/*
 * M-step: relocate empty clusters, new centroids = sums / counts (with
 * weights: weighted sums / weights, recomputed), shifts into the
 * cumulative bounds, swap C and Cnew.  Returns the total squared
 * shift; *relocated = number of relocations.
 */
static double
mstep(km_ctx *c, int *relocated)
{
	int			j,
				k = c->k;
	size_t		d = c->d,
				f;
	double		total = 0.0,
				max1 = 0.0,
				max2 = 0.0;
	int			arg1 = -1;
	double	   *tmp;

	*relocated = 0;
	for (j = 0; j < k; j++)
		if (c->counts[j] == 0)
		{
			*relocated = relocate_empty(c);
			break;
		}
	if (c->wt != NULL)
		weighted_sums(c);
	for (j = 0; j < k; j++)
	{
		double		cnt = c->wt != NULL ? c->wsum[j] : (double) c->counts[j];
		const double *s = c->sums + (size_t) j * d;
		double	   *cn = c->Cnew + (size_t) j * d;
		double		d2,
					p;

		if (c->counts[j] > 0)
			for (f = 0; f < d; f++)
				cn[f] = s[f] / cnt;
		else
			memcpy(cn, c->C + (size_t) j * d, d * sizeof(double));
		d2 = sqdist(c->C + (size_t) j * d, cn, d);
		total += d2;
		p = sqrt(d2);
		c->P[j] += p;
		if (p > max1)
		{
			max2 = max1;
			max1 = p;
			arg1 = j;
		}
		else if (p > max2)
			max2 = p;
	}
	/* lower bounds of points of cluster j drop by the max shift of others */
	for (j = 0; j < k; j++)
		c->Mo[j] += (j == arg1) ? max2 : max1;
	tmp = c->C;
	c->C = c->Cnew;
	c->Cnew = tmp;
	return total;
}

/* Sum of squared distances of every point to its labelled centroid. */
KM_INLINE double
inertia_impl(km_ctx *c, size_t d)
{
	const double *X = c->X;
	const double *C = c->C;
	const int32_t *labels = c->labels;
	size_t		n = c->n,
				start,
				end,
				i;
	double		total = 0.0;

	for (start = 0; start < n; start = end)
	{
		double		acc = 0.0;

		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		for (i = start; i < end; i++)
			acc += sqdist(X + i * d, C + (size_t) labels[i] * d, d);
		total += acc;
	}
	return total;
}

/* Weighted sum of squared distances to the labelled centroids. */
static double
inertia_weighted(km_ctx *c)
{
	const double *X = c->X;
	const double *C = c->C;
	const int32_t *labels = c->labels;
	const double *wt = c->wt;
	size_t		n = c->n,
				d = c->d,
				start,
				end,
				i;
	double		total = 0.0;

	for (start = 0; start < n; start = end)
	{
		double		acc = 0.0;

		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		for (i = start; i < end; i++)
			acc += wt[i] * sqdist(X + i * d, C + (size_t) labels[i] * d, d);
		total += acc;
	}
	return total;
}

/* inertia_impl for the dimension of the data (weighted with weights). */
KM_NOINLINE double
inertia_run(km_ctx *c)
{
	double		total = 0.0;

	if (c->wt != NULL)
		return inertia_weighted(c);
	KM_DISPATCH(c->d, total = inertia_impl(c, D_));
	return total;
}

/* One restart from the centroids in c->C (see kmeans_internal.h). */
double
km_lloyd(km_ctx *c, int want_inertia, int *iterations, int *converged)
{
	int			hamerly = (c->p->algorithm == ECORE_ALGO_HAMERLY);
	int			it,
				strict = 0,
				conv = 0,
				relocated;
	size_t		changes;
	double		shift,
				inertia = 0.0;

	memset(c->P, 0, (size_t) c->k * sizeof(double));
	memset(c->Mo, 0, (size_t) c->k * sizeof(double));
	c->changes_since_sync = 0;
	for (it = 1; it <= c->p->max_iter; it++)
	{
		ECORE_CHECK(c->env);
		if (it == 1)
		{
			estep_first(c, hamerly);
			changes = c->n;
		}
		else
		{
			if (hamerly)
			{
				compute_s_half(c);
				changes = estep_hamerly(c);
			}
			else
				changes = estep_lloyd(c);
			c->changes_since_sync += changes;
			if (c->changes_since_sync > c->n)
			{
				resync_sums(c);
				c->changes_since_sync = 0;
			}
		}
		shift = mstep(c, &relocated);
		if (changes == 0 && relocated == 0)
		{
			strict = 1;
			conv = 1;
			break;
		}
		if (shift <= c->tol_abs)
		{
			conv = 1;
			break;
		}
	}
	if (it > c->p->max_iter)
		it = c->p->max_iter;
	if (!strict)
	{
		/* last E-step: labels consistent with the final centroids */
		if (hamerly)
		{
			compute_s_half(c);
			(void) estep_hamerly(c);
		}
		else
			(void) estep_lloyd(c);
	}
	if (want_inertia)
		inertia = inertia_run(c);
	*iterations = it;
	*converged = conv;
	return inertia;
}
