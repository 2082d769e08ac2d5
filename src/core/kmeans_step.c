/*-------------------------------------------------------------------------
 *
 * kmeans_step.c
 *	  Combinable states of the scaler and of one Lloyd step (see
 *	  kmeans_step.h): layouts on int64_t slots, adding a point, merging
 *	  two states, and the final results.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "kmeans_step.h"

#include <float.h>
#include <math.h>

#include "kmeans_internal.h"
#include "parallel.h"

#define XS ECORE_XSUM_SLOTS

/* ---------------------------------------------------------------------
 * The scaler: header, then per feature min, max, sum(x), sum(x^2), and
 * for log sum(log1p(x)) and sum(log1p(x)^2)
 * ---------------------------------------------------------------------
 */
#define SA_MAGIC	0
#define SA_D		1
#define SA_METHOD	2
#define SA_N		3
#define SA_HDR		4

/* Slots per feature of a scaler state of method m */
#define SA_FEAT(m)	(2 + ((m) == ECORE_SCALE_LOG ? 4 : 2) * XS)
#define SA_STRIDE(st) ((size_t) SA_FEAT((st)[SA_METHOD]))
#define SA_MIN(st, j)	(SA_HDR + (size_t) (j) * SA_STRIDE(st))
#define SA_MAX(st, j)	(SA_MIN(st, j) + 1)
#define SA_S1(st, j)	(SA_MIN(st, j) + 2)
#define SA_S2(st, j)	(SA_MIN(st, j) + 2 + XS)
#define SA_L1(st, j)	(SA_MIN(st, j) + 2 + 2 * XS)	/* log only */
#define SA_L2(st, j)	(SA_MIN(st, j) + 2 + 3 * XS)

/* Double of slot bits, and back */
static double
slot_dbl(int64_t v)
{
	double		x;

	memcpy(&x, &v, sizeof(x));
	return x;
}

/* Slot bits of a double */
static int64_t
dbl_slot(double x)
{
	int64_t		v;

	memcpy(&v, &x, sizeof(v));
	return v;
}

/* Does the combinable scaler state take this method? */
static int
sa_method_ok(int64_t m)
{
	return m == ECORE_SCALE_NONE || m == ECORE_SCALE_ZSCORE ||
		m == ECORE_SCALE_MINMAX || m == ECORE_SCALE_LOG;
}

/* Slots of a scaler state */
size_t
ecore_scaleagg_slots(size_t d, ecore_scale_method method)
{
	if (d < 1 || d > ECORE_KSTEP_MAX_D || !sa_method_ok(method))
		return 0;
	return SA_HDR + d * (size_t) SA_FEAT(method);
}

/* Set up an empty scaler state */
void
ecore_scaleagg_init(int64_t *st, size_t d, ecore_scale_method method)
{
	memset(st, 0, ecore_scaleagg_slots(d, method) * sizeof(int64_t));
	st[SA_MAGIC] = ECORE_SCALEAGG_MAGIC;
	st[SA_D] = (int64_t) d;
	st[SA_METHOD] = (int64_t) method;
	st[SA_N] = 0;
}

/* Is st a valid scaler state of nslots slots? */
int
ecore_scaleagg_check(const int64_t *st, size_t nslots)
{
	size_t		d,
				j;

	if (st == NULL || nslots < SA_HDR || st[SA_MAGIC] != ECORE_SCALEAGG_MAGIC)
		return ECORE_EINVAL_ARG;
	if (st[SA_D] < 1 || st[SA_D] > ECORE_KSTEP_MAX_D || !sa_method_ok(st[SA_METHOD]))
		return ECORE_EINVAL_ARG;
	d = (size_t) st[SA_D];
	if (nslots != ecore_scaleagg_slots(d, (ecore_scale_method) st[SA_METHOD]))
		return ECORE_EINVAL_ARG;
	if (st[SA_N] < 0 || st[SA_N] > (INT64_C(1) << 62))
		return ECORE_EINVAL_ARG;
	for (j = 0; j < d; j++)
	{
		double		lo = slot_dbl(st[SA_MIN(st, j)]),
					hi = slot_dbl(st[SA_MAX(st, j)]);

		if (!isfinite(lo) || !isfinite(hi) || lo > hi ||
			!ecore_xsum_valid(st + SA_S1(st, j)) || !ecore_xsum_valid(st + SA_S2(st, j)))
			return ECORE_EINVAL_ARG;
		if (st[SA_METHOD] == ECORE_SCALE_LOG &&
			(lo < 0.0 || !ecore_xsum_valid(st + SA_L1(st, j)) ||
			 !ecore_xsum_valid(st + SA_L2(st, j))))
			return ECORE_EINVAL_ARG;
	}
	return ECORE_OK;
}

/* d of a valid scaler state */
size_t
ecore_scaleagg_d(const int64_t *st)
{
	return (size_t) st[SA_D];
}

/* method of a valid scaler state */
ecore_scale_method
ecore_scaleagg_method(const int64_t *st)
{
	return (ecore_scale_method) st[SA_METHOD];
}

/* points of a valid scaler state */
int64_t
ecore_scaleagg_n(const int64_t *st)
{
	return st[SA_N];
}

/* Add a point to a scaler state */
int
ecore_scaleagg_add(int64_t *st, const double *x, size_t *col)
{
	size_t		d = (size_t) st[SA_D],
				j;
	int			rc,
				logx = st[SA_METHOD] == ECORE_SCALE_LOG;

	rc = ecore_check_row(x, d, ECORE_MAX_ABS, col);
	if (rc != ECORE_OK)
		return rc;
	if (logx)
		for (j = 0; j < d; j++)
			if (x[j] < 0.0)
			{
				*col = j;
				return ECORE_ENEGATIVE;
			}
	for (j = 0; j < d; j++)
	{
		if (st[SA_N] == 0)
		{
			st[SA_MIN(st, j)] = dbl_slot(x[j]);
			st[SA_MAX(st, j)] = dbl_slot(x[j]);
		}
		else
		{
			if (x[j] < slot_dbl(st[SA_MIN(st, j)]))
				st[SA_MIN(st, j)] = dbl_slot(x[j]);
			if (x[j] > slot_dbl(st[SA_MAX(st, j)]))
				st[SA_MAX(st, j)] = dbl_slot(x[j]);
		}
		ecore_xsum_add(st + SA_S1(st, j), x[j]);
		ecore_xsum_add_square(st + SA_S2(st, j), x[j]);
		if (logx)
		{
			double		y = log1p(x[j]);

			ecore_xsum_add(st + SA_L1(st, j), y);
			ecore_xsum_add_square(st + SA_L2(st, j), y);
		}
	}
	st[SA_N]++;
	return ECORE_OK;
}

/*
 * Merge two scaler states.  The minimum and maximum of equal values keep
 * a's bits, which is order-independent for every value but zero: -0 and
 * +0 compare equal, so the smaller bits (+0) win on ties.
 */
int
ecore_scaleagg_merge(int64_t *a, const int64_t *b)
{
	size_t		d = (size_t) a[SA_D],
				j;

	if (a[SA_D] != b[SA_D] || a[SA_METHOD] != b[SA_METHOD])
		return ECORE_EINVAL_ARG;
	if (b[SA_N] == 0)
		return ECORE_OK;
	for (j = 0; j < d; j++)
	{
		double		amin = slot_dbl(a[SA_MIN(a, j)]),
					amax = slot_dbl(a[SA_MAX(a, j)]),
					bmin = slot_dbl(b[SA_MIN(b, j)]),
					bmax = slot_dbl(b[SA_MAX(b, j)]);

		if (a[SA_N] == 0 || bmin < amin ||
			(bmin == amin && b[SA_MIN(b, j)] < a[SA_MIN(a, j)]))
			a[SA_MIN(a, j)] = b[SA_MIN(b, j)];
		if (a[SA_N] == 0 || bmax > amax ||
			(bmax == amax && b[SA_MAX(b, j)] < a[SA_MAX(a, j)]))
			a[SA_MAX(a, j)] = b[SA_MAX(b, j)];
		ecore_xsum_merge(a + SA_S1(a, j), b + SA_S1(b, j));
		ecore_xsum_merge(a + SA_S2(a, j), b + SA_S2(b, j));
		if (a[SA_METHOD] == ECORE_SCALE_LOG)
		{
			ecore_xsum_merge(a + SA_L1(a, j), b + SA_L1(b, j));
			ecore_xsum_merge(a + SA_L2(a, j), b + SA_L2(b, j));
		}
	}
	a[SA_N] += b[SA_N];
	return ECORE_OK;
}

/* zscore's scale of an exact mean and variance (scale.c's rule) */
static double
sa_std_scale(double var, double mean, double nd)
{
	double		eps = DBL_EPSILON,
				q = nd * mean * eps,
				upper = nd * eps * var + q * q;

	return (var <= upper) ? 1.0 : sqrt(var);
}

/*
 * The scaler of a state: mean and var exact, rounded once; scale and
 * offset from them as ecore_scaler_fit derives them (scale.c); log: from
 * the exact mean and variance of log1p(x).
 */
int
ecore_scaleagg_final(const int64_t *st, ecore_scaler *s)
{
	size_t		d = (size_t) st[SA_D],
				j;
	uint64_t	n = (uint64_t) st[SA_N];
	double		nd = (double) st[SA_N],
				eps = DBL_EPSILON;
	int			rc;

	if (n == 0)
		return ECORE_EINVAL_N;
	for (j = 0; j < d; j++)
	{
		rc = ecore_xsum_div(st + SA_S1(st, j), n, &s->mean[j]);
		if (rc == ECORE_OK)
			rc = ecore_xsum_variance(st + SA_S1(st, j), st + SA_S2(st, j), n, &s->var[j]);
		if (rc != ECORE_OK)
			return rc;
		s->data_min[j] = slot_dbl(st[SA_MIN(st, j)]);
		s->data_max[j] = slot_dbl(st[SA_MAX(st, j)]);
		switch (s->method)
		{
			case ECORE_SCALE_ZSCORE:
				s->scale[j] = sa_std_scale(s->var[j], s->mean[j], nd);
				s->offset[j] = s->mean[j];
				break;
			case ECORE_SCALE_LOG:
				{
					double		mean,
								var;

					rc = ecore_xsum_div(st + SA_L1(st, j), n, &mean);
					if (rc == ECORE_OK)
						rc = ecore_xsum_variance(st + SA_L1(st, j), st + SA_L2(st, j), n, &var);
					if (rc != ECORE_OK)
						return rc;
					s->scale[j] = sa_std_scale(var, mean, nd);
					s->offset[j] = mean;
				}
				break;
			case ECORE_SCALE_MINMAX:
				{
					double		range = s->data_max[j] - s->data_min[j];

					if (range < 10.0 * eps)
						range = 1.0;
					s->scale[j] = 1.0 / range;
					s->offset[j] = 0.0 - s->data_min[j] * s->scale[j];
				}
				break;
			case ECORE_SCALE_NONE:
				s->scale[j] = 1.0;
				s->offset[j] = 0.0;
				break;
			case ECORE_SCALE_ROBUST:
				/* the quantiles come from passes (ecore_qres_*) */
				return ECORE_EINVAL_ARG;
		}
	}
	s->n = (size_t) n;
	return ECORE_OK;
}

/* ---------------------------------------------------------------------
 * One Lloyd step: header, centroids, counts, per cluster d feature sums
 * and the inertia, then k candidates (squared distance, cluster, point)
 * ---------------------------------------------------------------------
 */
#define KS_MAGIC	0
#define KS_K		1
#define KS_D		2
#define KS_N		3
#define KS_FP		4
#define KS_NCAND	5
#define KS_WORST	6			/* least preferred candidate, when full */
#define KS_HDR		7

/* Offsets of the parts of a state of k clusters and d features */
typedef struct ks_layout
{
	int			k;
	size_t		d;
	size_t		cent;			/* k x d centroid bits */
	size_t		counts;			/* k counts */
	size_t		sums;			/* k x (d + 1) accumulators */
	size_t		cand;			/* k candidates of (2 + d) slots */
	size_t		total;
} ks_layout;

/* The layout of a state */
static void
ks_layout_of(int k, size_t d, ks_layout *l)
{
	l->k = k;
	l->d = d;
	l->cent = KS_HDR;
	l->counts = l->cent + (size_t) k * d;
	l->sums = l->counts + (size_t) k;
	l->cand = l->sums + (size_t) k * (d + 1) * XS;
	l->total = l->cand + (size_t) k * (2 + d);
}

/* Accumulator of feature f (f = d: the inertia) of cluster j */
#define KS_SUM(st, l, j, f) \
	((st) + (l)->sums + ((size_t) (j) * ((l)->d + 1) + (size_t) (f)) * XS)

/* Candidate c */
#define KS_CAND(st, l, c) ((st) + (l)->cand + (size_t) (c) * (2 + (l)->d))

/* Slots of a step state */
size_t
ecore_kstep_slots(int k, size_t d)
{
	ks_layout	l;

	if (k < 1 || k > ECORE_KSTEP_MAX_K || d < 1 || d > ECORE_KSTEP_MAX_D)
		return 0;
	ks_layout_of(k, d, &l);
	return l.total;
}

/* Set up an empty step state */
void
ecore_kstep_init(int64_t *st, int k, size_t d, const double *C,
				 uint64_t fingerprint)
{
	ks_layout	l;

	ks_layout_of(k, d, &l);
	memset(st, 0, l.total * sizeof(int64_t));
	st[KS_MAGIC] = ECORE_KSTEP_MAGIC;
	st[KS_K] = k;
	st[KS_D] = (int64_t) d;
	st[KS_FP] = (int64_t) fingerprint;
	memcpy(st + l.cent, C, (size_t) k * d * sizeof(double));
}

/* Is st a valid step state of nslots slots? */
int
ecore_kstep_check(const int64_t *st, size_t nslots)
{
	ks_layout	l;
	int64_t		total = 0,
				nc;
	size_t		i;
	int			j;

	if (st == NULL || nslots < KS_HDR || st[KS_MAGIC] != ECORE_KSTEP_MAGIC ||
		st[KS_K] < 1 || st[KS_K] > ECORE_KSTEP_MAX_K ||
		st[KS_D] < 1 || st[KS_D] > ECORE_KSTEP_MAX_D)
		return ECORE_EINVAL_ARG;
	ks_layout_of((int) st[KS_K], (size_t) st[KS_D], &l);
	if (nslots != l.total)
		return ECORE_EINVAL_ARG;
	for (i = 0; i < (size_t) l.k * l.d; i++)
		if (!isfinite(slot_dbl(st[l.cent + i])) ||
			fabs(slot_dbl(st[l.cent + i])) > ECORE_MAX_ABS_CENTROID)
			return ECORE_EINVAL_ARG;
	for (j = 0; j < l.k; j++)
	{
		if (st[l.counts + j] < 0 || st[l.counts + j] > (INT64_C(1) << 62))
			return ECORE_EINVAL_ARG;
		total += st[l.counts + j];
		for (i = 0; i <= l.d; i++)
			if (!ecore_xsum_valid(KS_SUM(st, &l, j, i)))
				return ECORE_EINVAL_ARG;
	}
	if (st[KS_N] != total)
		return ECORE_EINVAL_ARG;
	nc = st[KS_NCAND];
	if (nc < 0 || nc > l.k || nc > total ||
		(nc == l.k && (st[KS_WORST] < 0 || st[KS_WORST] >= l.k)))
		return ECORE_EINVAL_ARG;
	for (j = 0; j < nc; j++)
	{
		const int64_t *c = KS_CAND(st, &l, j);
		double		dist = slot_dbl(c[0]);

		if (!isfinite(dist) || dist < 0.0 || c[1] < 0 || c[1] >= l.k ||
			st[l.counts + c[1]] < 1)
			return ECORE_EINVAL_ARG;
		if (ecore_check_row((const double *) (c + 2), l.d, ECORE_MAX_ABS, &i) != ECORE_OK)
			return ECORE_EINVAL_ARG;
	}
	return ECORE_OK;
}

/* k of a valid step state */
int
ecore_kstep_k(const int64_t *st)
{
	return (int) st[KS_K];
}

/* d of a valid step state */
size_t
ecore_kstep_d(const int64_t *st)
{
	return (size_t) st[KS_D];
}

/* fingerprint of a valid step state */
uint64_t
ecore_kstep_fingerprint(const int64_t *st)
{
	return (uint64_t) st[KS_FP];
}

/* Do the state's centroids equal C bit for bit? */
int
ecore_kstep_same_centroids(const int64_t *st, const double *C)
{
	return memcmp(st + KS_HDR, C,
				  (size_t) st[KS_K] * (size_t) st[KS_D] * sizeof(double)) == 0;
}

/* Total-order key of a finite double: unsigned order = numeric order */
static inline uint64_t
order_key(int64_t bits)
{
	uint64_t	u = (uint64_t) bits;

	return (u >> 63) ? ~u : (u | (UINT64_C(1) << 63));
}

/*
 * Does candidate a come before candidate b (farther, then smaller
 * features, then lower cluster)?  Squared distances are >= 0, ordered
 * like their bits.
 */
static int
cand_before(const int64_t *a, const int64_t *b, size_t d)
{
	size_t		f;

	if (a[0] != b[0])
		return (uint64_t) a[0] > (uint64_t) b[0];
	for (f = 0; f < d; f++)
	{
		uint64_t	ka = order_key(a[2 + f]),
					kb = order_key(b[2 + f]);

		if (ka != kb)
			return ka < kb;
	}
	return a[1] < b[1];
}

/* Index of the least preferred of the k (full) candidates */
static int64_t
cand_worst(const int64_t *st, const ks_layout *l)
{
	int64_t		w = 0;
	int			c;

	for (c = 1; c < l->k; c++)
		if (cand_before(KS_CAND(st, l, w), KS_CAND(st, l, c), l->d))
			w = c;
	return w;
}

/*
 * Offer candidate x (2 + d slots) to the state: kept when fewer than k
 * are held or when it comes before the least preferred one.
 */
static void
cand_offer(int64_t *st, const ks_layout *l, const int64_t *x)
{
	int64_t		nc = st[KS_NCAND];

	if (nc < l->k)
	{
		memcpy(KS_CAND(st, l, nc), x, (2 + l->d) * sizeof(int64_t));
		st[KS_NCAND] = ++nc;
		if (nc == l->k)
			st[KS_WORST] = cand_worst(st, l);
		return;
	}
	if (!cand_before(x, KS_CAND(st, l, st[KS_WORST]), l->d))
		return;
	memcpy(KS_CAND(st, l, st[KS_WORST]), x, (2 + l->d) * sizeof(int64_t));
	st[KS_WORST] = cand_worst(st, l);
}

/*
 * Add a normalised point to a step state; *b1 and *b2 get its squared
 * distances to the nearest centroid and to the next nearest one.
 */
static inline void
kstep_add(int64_t *st, const double *C, const double *z, double *pb1,
		  double *pb2)
{
	ks_layout	l;
	double		b1,
				b2;
	int32_t		j;
	size_t		f;
	int64_t    *acc;

	ks_layout_of((int) st[KS_K], (size_t) st[KS_D], &l);
	j = nearest2(z, C, l.k, l.d, &b1, &b2);
	*pb1 = b1;
	*pb2 = b2;
	st[l.counts + j]++;
	st[KS_N]++;
	acc = KS_SUM(st, &l, j, 0);
	for (f = 0; f < l.d; f++)
		ecore_xsum_add(acc + f * XS, z[f]);
	ecore_xsum_add(acc + l.d * XS, b1);
	/* the farthest points: most are rejected by the first comparison */
	if (st[KS_NCAND] < l.k ||
		(uint64_t) dbl_slot(b1) >= (uint64_t) KS_CAND(st, &l, st[KS_WORST])[0])
	{
		int64_t		x[2 + ECORE_KSTEP_MAX_D];

		x[0] = dbl_slot(b1);
		x[1] = j;
		memcpy(x + 2, z, l.d * sizeof(double));
		cand_offer(st, &l, x);
	}
}

/* Add a normalised point to a step state */
void
ecore_kstep_add(int64_t *st, const double *C, const double *z)
{
	double		b1,
				b2;

	kstep_add(st, C, z, &b1, &b2);
}

/*
 * Relative margin of the bounds of ecore_kstep_delta: far above the
 * rounding errors of the distances (a few units of 2^-53) and of the
 * bounds' updates (one rounding per step, at most ECORE_MAX_ITER steps).
 */
#define KS_BOUND_MARGIN 1e-9

/* Absolute slack of the bounds: covers roundings among subnormal values */
#define KS_BOUND_TINY 1e-290

/* Move point z from cluster a to cluster j: counts and feature sums */
KM_INLINE void
kstep_delta_move(int64_t *st, const ks_layout *l, const double *z, int32_t a,
				 int32_t j, const size_t D_)
{
	int64_t    *sa = KS_SUM(st, l, a, 0),
			   *sj = KS_SUM(st, l, j, 0);
	size_t		f;

	st[l->counts + a]--;
	st[l->counts + j]++;
	for (f = 0; f < D_; f++)
	{
		ecore_xsum_add(sa + f * XS, -z[f]);
		ecore_xsum_add(sj + f * XS, z[f]);
	}
}

/* The bounds' movement of the centroids between two steps */
typedef struct ks_moves
{
	double		dmax;			/* the largest centroid move (bound) */
	double		dsecond;		/* the largest but argmax's */
	int32_t		argmax;
} ks_moves;

/*
 * Points start .. end - 1 of a step of ecore_kstep_delta, d = D_ (a
 * constant in the instances of KM_DISPATCH).  Inertia into each cluster's
 * accumulator; the farthest points are offered afterwards, and only when
 * a cluster is empty.
 */
KM_INLINE void
kstep_delta_points(int64_t *st, const ks_layout *l, const double *C,
				   int first, const double *Z, size_t start, size_t end,
				   int32_t *assign, double *lower, const ks_moves *mv,
				   const size_t D_)
{
	size_t		i;

	for (i = start; i < end; i++)
	{
		const double *z = Z + i * D_;
		double		b1,
					b2;
		int32_t		a,
					c;

		if (first)
		{
			size_t		f;
			int64_t    *acc;

			c = nearest2(z, C, l->k, D_, &b1, &b2);
			assign[i] = c;
			lower[i] = sqrt(b2) * (1.0 - KS_BOUND_MARGIN);
			st[l->counts + c]++;
			acc = KS_SUM(st, l, c, 0);
			for (f = 0; f < D_; f++)
				ecore_xsum_add(acc + f * XS, z[f]);
			ecore_xsum_add(KS_SUM(st, l, c, D_), b1);
			continue;
		}
		a = assign[i];
		b1 = sqdist(z, C + (size_t) a * D_, D_);
		{
			double		lo = lower[i] - (a == mv->argmax ? mv->dsecond : mv->dmax);

			lower[i] = lo;
			if (lo > 0.0 &&
				b1 * (1.0 + KS_BOUND_MARGIN) + KS_BOUND_TINY <
				lo * lo * (1.0 - KS_BOUND_MARGIN))
			{
				ecore_xsum_add(KS_SUM(st, l, a, D_), b1);
				continue;
			}
		}
		c = nearest2(z, C, l->k, D_, &b1, &b2);
		lower[i] = sqrt(b2) * (1.0 - KS_BOUND_MARGIN);
		if (c != a)
		{
			kstep_delta_move(st, l, z, a, c, D_);
			assign[i] = c;
		}
		ecore_xsum_add(KS_SUM(st, l, c, D_), b1);
	}
}

/* Slots of ecore_kstep_delta's partial states (see kmeans_step.h) */
size_t
ecore_kstep_delta_parts(int k, size_t d, size_t n, int nthreads)
{
	size_t		slots = ecore_kstep_slots(k, d);
	int			nt = ecore_par_threads(nthreads, n, ECORE_KSTEP_PAR_CHUNK);

	if (slots == 0 || nt <= 1)
		return 0;
	return slots * (size_t) (nt - 1);
}

/* What the threads of one ecore_kstep_delta share */
typedef struct ks_par
{
	int64_t    *st;				/* the caller's (thread 0's) state */
	int64_t    *parts;			/* thread t's partial state at t - 1 */
	size_t		part_slots;
	const ks_layout *l;
	const double *C;
	int			first;
	const double *Z;
	int32_t    *assign;
	double	   *lower;
	const ks_moves *mv;
} ks_par;

/* The points start .. end - 1 of a step, on thread worker */
static void
ks_par_body(void *arg, int worker, size_t start, size_t end)
{
	const ks_par *p = (const ks_par *) arg;
	int64_t    *st = worker == 0 ? p->st :
		p->parts + (size_t) (worker - 1) * p->part_slots;

	KM_DISPATCH(p->l->d, kstep_delta_points(st, p->l, p->C, p->first, p->Z,
											start, end, p->assign, p->lower,
											p->mv, D_));
}

/*
 * The step of the points in memory from the centroids C (see
 * kmeans_step.h).  First step: every point to its nearest centroid, the
 * bounds set.  Later ones: the previous centroids are the state's; a
 * point keeps its cluster when its distance to it (computed exactly as
 * nearest2 computes it) stays below its lower bound on every other
 * centroid (Hamerly's test, with a margin), which proves that nearest2
 * would choose it; otherwise nearest2 chooses and the point's feature
 * sums move (exactly) when its cluster changes.  With threads, each
 * worker's changes go to its partial state (zero counts and sums), merged
 * exactly into st afterwards.  The farthest points, which only the
 * relocation of an empty cluster reads, are collected by a second pass
 * when a cluster is empty.
 */
void
ecore_kstep_delta(int64_t *st, const double *C, int first, const double *Z,
				  size_t n, int32_t *assign, double *lower, int nthreads,
				  int64_t *parts, ecore_env *env)
{
	ks_layout	l;
	ks_moves	mv;
	ks_par		par;
	size_t		start,
				end,
				i,
				kd,
				f;
	int			j,
				t,
				nt,
				empty = 0;

	ks_layout_of((int) st[KS_K], (size_t) st[KS_D], &l);
	kd = (size_t) l.k * l.d;
	nt = parts == NULL ? 1 : ecore_par_threads(nthreads, n, ECORE_KSTEP_PAR_CHUNK);
	mv.dmax = 0.0;
	mv.dsecond = 0.0;
	mv.argmax = -1;
	if (!first)
	{
		/* how far each centroid moved: upper bounds */
		const double *old = (const double *) (st + l.cent);

		for (j = 0; j < l.k; j++)
		{
			double		m = sqrt(sqdist(old + (size_t) j * l.d, C + (size_t) j * l.d, l.d));

			m = m * (1.0 + KS_BOUND_MARGIN) + KS_BOUND_TINY;
			if (m > mv.dmax)
			{
				mv.dsecond = mv.dmax;
				mv.dmax = m;
				mv.argmax = j;
			}
			else if (m > mv.dsecond)
				mv.dsecond = m;
		}
		/* the inertia is of this step alone */
		for (j = 0; j < l.k; j++)
			ecore_xsum_init(KS_SUM(st, &l, j, l.d));
	}
	else
	{
		memset(st + l.counts, 0, (l.total - l.counts) * sizeof(int64_t));
		st[KS_N] = (int64_t) n;
	}
	st[KS_NCAND] = 0;
	st[KS_WORST] = 0;
	memcpy(st + l.cent, C, kd * sizeof(double));

	/* the workers' partial states: zero counts and sums */
	for (t = 1; t < nt; t++)
		memset(parts + (size_t) (t - 1) * l.total + l.counts, 0,
			   (l.cand - l.counts) * sizeof(int64_t));
	par.st = st;
	par.parts = parts;
	par.part_slots = l.total;
	par.l = &l;
	par.C = C;
	par.first = first;
	par.Z = Z;
	par.assign = assign;
	par.lower = lower;
	par.mv = &mv;
	ecore_par_run(env, nt, n, ECORE_KSTEP_PAR_CHUNK, ks_par_body, &par);
	for (t = 1; t < nt; t++)
	{
		const int64_t *pt = parts + (size_t) (t - 1) * l.total;

		for (j = 0; j < l.k; j++)
		{
			st[l.counts + j] += pt[l.counts + j];
			for (f = 0; f <= l.d; f++)
				ecore_xsum_merge(KS_SUM(st, &l, j, f), KS_SUM(pt, &l, j, f));
		}
	}

	/* the farthest points, when a cluster is empty */
	for (j = 0; j < l.k; j++)
		if (st[l.counts + j] == 0)
			empty = 1;
	if (!empty)
		return;
	for (start = 0; start < n; start = end)
	{
		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(env);
		for (i = start; i < end; i++)
		{
			const double *z = Z + i * l.d;
			int32_t		a = assign[i];
			double		b1 = sqdist(z, C + (size_t) a * l.d, l.d);

			if (st[KS_NCAND] < l.k ||
				(uint64_t) dbl_slot(b1) >= (uint64_t) KS_CAND(st, &l, st[KS_WORST])[0])
			{
				int64_t		x[2 + ECORE_KSTEP_MAX_D];

				x[0] = dbl_slot(b1);
				x[1] = a;
				memcpy(x + 2, z, l.d * sizeof(double));
				cand_offer(st, &l, x);
			}
		}
	}
}

/* Merge two step states */
int
ecore_kstep_merge(int64_t *a, const int64_t *b)
{
	ks_layout	l;
	int			j;
	size_t		f;
	int64_t		c;

	if (a[KS_K] != b[KS_K] || a[KS_D] != b[KS_D] || a[KS_FP] != b[KS_FP])
		return ECORE_EINVAL_ARG;
	ks_layout_of((int) a[KS_K], (size_t) a[KS_D], &l);
	if (memcmp(a + l.cent, b + l.cent, (size_t) l.k * l.d * sizeof(int64_t)) != 0)
		return ECORE_EINVAL_ARG;
	for (j = 0; j < l.k; j++)
	{
		a[l.counts + j] += b[l.counts + j];
		for (f = 0; f <= l.d; f++)
			ecore_xsum_merge(KS_SUM(a, &l, j, f), KS_SUM(b, &l, j, f));
	}
	a[KS_N] += b[KS_N];
	for (c = 0; c < b[KS_NCAND]; c++)
		cand_offer(a, &l, KS_CAND(b, &l, c));
	return ECORE_OK;
}

/*
 * The results of a step (see kmeans_step.h).  The relocation works on
 * scratch, a copy of the state: each empty cluster, in ascending order,
 * takes the first candidate (in the candidates' order) not yet taken
 * whose cluster still has two points or more; its point leaves that
 * cluster's sums (an exact subtraction) and becomes the empty cluster's.
 */
int
ecore_kstep_final(const int64_t *st, int64_t *scratch, ecore_kstep_out *out)
{
	ks_layout	l;
	int			j,
				rc;
	size_t		f;
	int64_t		total[XS];
	const double *C = (const double *) (st + KS_HDR);
	int64_t    *cnt;

	ks_layout_of((int) st[KS_K], (size_t) st[KS_D], &l);
	memcpy(scratch, st, l.total * sizeof(int64_t));
	cnt = scratch + l.counts;
	out->n = st[KS_N];
	out->empty = 0;
	out->relocated = 0;
	out->davies_bouldin = NAN;
	out->calinski_harabasz = NAN;
	ecore_xsum_init(total);
	for (j = 0; j < l.k; j++)
	{
		out->sizes[j] = st[l.counts + j];
		if (out->sizes[j] == 0)
			out->empty++;
		rc = ecore_xsum_value(KS_SUM(st, &l, j, l.d), &out->cluster_inertia[j]);
		if (rc != ECORE_OK)
			return rc;
		ecore_xsum_merge(total, KS_SUM(st, &l, j, l.d));
	}
	rc = ecore_xsum_value(total, &out->inertia);
	if (rc != ECORE_OK)
		return rc;

	/* empty clusters, in ascending order */
	for (j = 0; j < l.k && out->empty > 0; j++)
	{
		int64_t		best = -1,
					c;
		int64_t    *x;
		int32_t		a;

		if (cnt[j] != 0)
			continue;
		for (c = 0; c < scratch[KS_NCAND]; c++)
		{
			const int64_t *y = KS_CAND(scratch, &l, c);

			if (y[1] < 0 || cnt[y[1]] < 2)
				continue;		/* taken, or its cluster would empty */
			if (best < 0 || cand_before(y, KS_CAND(scratch, &l, best), l.d))
				best = c;
		}
		if (best < 0)
			continue;			/* fewer points than clusters */
		x = KS_CAND(scratch, &l, best);
		a = (int32_t) x[1];
		for (f = 0; f < l.d; f++)
		{
			double		v = slot_dbl(x[2 + f]);

			ecore_xsum_add(KS_SUM(scratch, &l, a, f), -v);
			ecore_xsum_add(KS_SUM(scratch, &l, j, f), v);
		}
		cnt[a]--;
		cnt[j] = 1;
		x[1] = -1;
		out->relocated++;
	}

	/* next centroids: exact means, rounded once */
	for (j = 0; j < l.k; j++)
		for (f = 0; f < l.d; f++)
		{
			double	   *dst = out->next + (size_t) j * l.d + f;

			if (cnt[j] == 0)
				*dst = C[(size_t) j * l.d + f];
			else
			{
				rc = ecore_xsum_div(KS_SUM(scratch, &l, j, f), (uint64_t) cnt[j], dst);
				if (rc != ECORE_OK)
					return rc;
			}
		}
	out->fixed_point = memcmp(out->next, C, (size_t) l.k * l.d * sizeof(double)) == 0;
	return ECORE_OK;
}

/* ---------------------------------------------------------------------
 * Several Lloyd steps at once: header (magic, M, d, fingerprint, k_1 ..
 * k_M), then per model a step state, a silhouette accumulator, and the
 * indexes' part: the flag "the centres are the centroids", the k x d
 * centres, k accumulators of distances and k of squared distances
 * ---------------------------------------------------------------------
 */
#define KM_MAGIC	0
#define KM_M		1
#define KM_D		2
#define KM_FP		3
#define KM_HDR		4

/* Offsets in a model's part of k clusters and d features */
typedef struct kp_layout
{
	size_t		sil;			/* silhouette accumulator */
	size_t		flag;			/* 1: the centres are the centroids */
	size_t		cent;			/* k x d centres */
	size_t		dist;			/* k accumulators of distances */
	size_t		sq;				/* k of squared distances (flag 0) */
	size_t		total;
} kp_layout;

/* The layout of a model's part */
static inline void
kp_layout_of(int k, size_t d, kp_layout *l)
{
	size_t		ns = KS_HDR + (size_t) k * d + (size_t) k +
		(size_t) k * (d + 1) * XS + (size_t) k * (2 + d);

	l->sil = ns;
	l->flag = ns + XS;
	l->cent = l->flag + 1;
	l->dist = l->cent + (size_t) k * d;
	l->sq = l->dist + (size_t) k * XS;
	l->total = l->sq + (size_t) k * XS;
}

/* Slots of model j's part (step state, silhouette, indexes) */
static size_t
ksteps_part(int k, size_t d)
{
	kp_layout	l;

	if (ecore_kstep_slots(k, d) == 0)
		return 0;
	kp_layout_of(k, d, &l);
	return l.total;
}

/* Slots of a multi-model state */
size_t
ecore_ksteps_slots(int M, const int *ks, size_t d)
{
	size_t		total;
	int			j;

	if (M < 1 || M > ECORE_KSTEPS_MAX_MODELS || d < 1 || d > ECORE_KSTEP_MAX_D)
		return 0;
	total = KM_HDR + (size_t) M;
	for (j = 0; j < M; j++)
	{
		if (ecore_kstep_slots(ks[j], d) == 0)
			return 0;
		total += ksteps_part(ks[j], d);
		if (total > (size_t) ECORE_KSTEPS_MAX_SLOTS)
			return 0;
	}
	return total;
}

/* Set up an empty multi-model state */
void
ecore_ksteps_init(int64_t *st, int M, const int *ks, size_t d,
				  const double *const *C, const double *const *R,
				  uint64_t fingerprint)
{
	int64_t    *p;
	int			j;

	st[KM_MAGIC] = ECORE_KSTEPS_MAGIC;
	st[KM_M] = M;
	st[KM_D] = (int64_t) d;
	st[KM_FP] = (int64_t) fingerprint;
	p = st + KM_HDR + M;
	for (j = 0; j < M; j++)
	{
		kp_layout	l;
		const double *Rj = (R != NULL && R[j] != NULL) ? R[j] : C[j];
		size_t		kd = (size_t) ks[j] * d;

		kp_layout_of(ks[j], d, &l);
		st[KM_HDR + j] = ks[j];
		memset(p, 0, l.total * sizeof(int64_t));
		ecore_kstep_init(p, ks[j], d, C[j], fingerprint);
		memcpy(p + l.cent, Rj, kd * sizeof(double));
		p[l.flag] = memcmp(p + l.cent, p + KS_HDR, kd * sizeof(double)) == 0;
		/* the accumulators: all zero slots are empty sums */
		p += l.total;
	}
}

/* Model j's part of a valid multi-model state */
static int64_t *
ksteps_model(const int64_t *st, int j)
{
	const int64_t *p = st + KM_HDR + st[KM_M];
	size_t		d = (size_t) st[KM_D];
	int			i;

	for (i = 0; i < j; i++)
		p += ksteps_part((int) st[KM_HDR + i], d);
	return (int64_t *) p;
}

/* Is st a valid multi-model state of nslots slots? */
int
ecore_ksteps_check(const int64_t *st, size_t nslots)
{
	int			M,
				j;
	size_t		d,
				total;
	const int64_t *p;

	if (st == NULL || nslots < KM_HDR || st[KM_MAGIC] != ECORE_KSTEPS_MAGIC ||
		st[KM_M] < 1 || st[KM_M] > ECORE_KSTEPS_MAX_MODELS ||
		st[KM_D] < 1 || st[KM_D] > ECORE_KSTEP_MAX_D ||
		nslots < KM_HDR + (size_t) st[KM_M])
		return ECORE_EINVAL_ARG;
	M = (int) st[KM_M];
	d = (size_t) st[KM_D];
	total = KM_HDR + (size_t) M;
	for (j = 0; j < M; j++)
	{
		if (st[KM_HDR + j] < 1 || st[KM_HDR + j] > ECORE_KSTEP_MAX_K)
			return ECORE_EINVAL_ARG;
		total += ksteps_part((int) st[KM_HDR + j], d);
		if (total > nslots)
			return ECORE_EINVAL_ARG;
	}
	if (total != nslots)
		return ECORE_EINVAL_ARG;
	p = st + KM_HDR + M;
	for (j = 0; j < M; j++)
	{
		int			k = (int) st[KM_HDR + j];
		size_t		ns = ecore_kstep_slots(k, d),
					kd = (size_t) k * d,
					i;
		kp_layout	l;
		int			c;

		kp_layout_of(k, d, &l);
		if (ecore_kstep_check(p, ns) != ECORE_OK ||
			ecore_kstep_k(p) != k || ecore_kstep_d(p) != d ||
			p[KS_FP] != st[KM_FP] || p[KS_N] != st[KM_HDR + M + KS_N] ||
			!ecore_xsum_valid(p + l.sil))
			return ECORE_EINVAL_ARG;
		/* the indexes' part: the flag says whether the centres are C */
		if (p[l.flag] != (memcmp(p + l.cent, p + KS_HDR, kd * sizeof(double)) == 0))
			return ECORE_EINVAL_ARG;
		for (i = 0; i < kd; i++)
			if (!isfinite(slot_dbl(p[l.cent + i])) ||
				fabs(slot_dbl(p[l.cent + i])) > ECORE_MAX_ABS_CENTROID)
				return ECORE_EINVAL_ARG;
		for (c = 0; c < k; c++)
			if (!ecore_xsum_valid(p + l.dist + (size_t) c * XS) ||
				!ecore_xsum_valid(p + l.sq + (size_t) c * XS))
				return ECORE_EINVAL_ARG;
		p += l.total;
	}
	return ECORE_OK;
}

/* M of a valid multi-model state */
int
ecore_ksteps_models(const int64_t *st)
{
	return (int) st[KM_M];
}

/* d of a valid multi-model state */
size_t
ecore_ksteps_d(const int64_t *st)
{
	return (size_t) st[KM_D];
}

/* fingerprint of a valid multi-model state */
uint64_t
ecore_ksteps_fingerprint(const int64_t *st)
{
	return (uint64_t) st[KM_FP];
}

/* k of model j of a valid multi-model state */
int
ecore_ksteps_k(const int64_t *st, int j)
{
	return (int) st[KM_HDR + j];
}

/* Are the state's models these, bit for bit? */
int
ecore_ksteps_same_models(const int64_t *st, int M, const int *ks,
						 const double *const *C, const double *const *R)
{
	const int64_t *p;
	size_t		d = (size_t) st[KM_D];
	int			j;

	if (st[KM_M] != M)
		return 0;
	for (j = 0; j < M; j++)
		if (st[KM_HDR + j] != ks[j])
			return 0;
	p = st + KM_HDR + M;
	for (j = 0; j < M; j++)
	{
		kp_layout	l;
		const double *Rj = (R != NULL && R[j] != NULL) ? R[j] : C[j];

		kp_layout_of(ks[j], d, &l);
		if (!ecore_kstep_same_centroids(p, C[j]) ||
			memcmp(p + l.cent, Rj, (size_t) ks[j] * d * sizeof(double)) != 0)
			return 0;
		p += l.total;
	}
	return 1;
}

/* Simplified silhouette of a point at squared distances b1 <= b2 */
static inline double
point_silhouette(double b1, double b2)
{
	double		a = sqrt(b1),
				b = sqrt(b2),
				mx = a > b ? a : b;

	return mx > 0.0 ? (b - a) / mx : 0.0;
}

/*
 * Add a normalised point to every model of a multi-model state, d = D_
 * (a constant in the instances of KM_DISPATCH): kstep_add's work with the
 * layout of each model computed inline.
 */
KM_INLINE void
ksteps_add_d(int64_t *st, const double *z, const size_t D_)
{
	int			M = (int) st[KM_M],
				j;
	int64_t    *p = st + KM_HDR + M;

	for (j = 0; j < M; j++)
	{
		int			k = (int) st[KM_HDR + j];
		size_t		counts = KS_HDR + (size_t) k * D_,
					sums = counts + (size_t) k,
					cand = sums + (size_t) k * (D_ + 1) * XS,
					ns = cand + (size_t) k * (2 + D_),
					kcent = ns + XS + 1,
					kdist = kcent + (size_t) k * D_,
					ksq = kdist + (size_t) k * XS,
					f;
		double		b1,
					b2;
		int32_t		c = nearest2(z, (const double *) (p + KS_HDR), k, D_, &b1, &b2);
		int64_t    *acc = p + sums + (size_t) c * (D_ + 1) * XS;

		p[counts + c]++;
		p[KS_N]++;
		for (f = 0; f < D_; f++)
			ecore_xsum_add(acc + f * XS, z[f]);
		ecore_xsum_add(acc + D_ * XS, b1);
		/* the farthest points: most are rejected by the first comparison */
		if (p[KS_NCAND] < k ||
			(uint64_t) dbl_slot(b1) >= (uint64_t) p[cand + (size_t) p[KS_WORST] * (2 + D_)])
		{
			ks_layout	l;
			int64_t		x[2 + ECORE_KSTEP_MAX_D];

			ks_layout_of(k, D_, &l);
			x[0] = dbl_slot(b1);
			x[1] = c;
			memcpy(x + 2, z, D_ * sizeof(double));
			cand_offer(p, &l, x);
		}
		if (k > 1)
			ecore_xsum_add(p + ns, point_silhouette(b1, b2));
		/* the indexes: the distance to the cluster's centre */
		if (p[ns + XS])
			ecore_xsum_add(p + kdist + (size_t) c * XS, sqrt(b1));
		else
		{
			double		q = sqdist(z, (const double *) (p + kcent) + (size_t) c * D_, D_);

			ecore_xsum_add(p + kdist + (size_t) c * XS, sqrt(q));
			ecore_xsum_add(p + ksq + (size_t) c * XS, q);
		}
		p += ksq + (size_t) k * XS;
	}
}

/* Add a normalised point to every model of a multi-model state */
void
ecore_ksteps_add(int64_t *st, const double *z)
{
	KM_DISPATCH((size_t) st[KM_D], ksteps_add_d(st, z, D_));
}

/* Merge two multi-model states */
int
ecore_ksteps_merge(int64_t *a, const int64_t *b)
{
	int			M = (int) a[KM_M],
				j;
	size_t		d = (size_t) a[KM_D];
	int64_t    *pa;
	const int64_t *pb;

	if (a[KM_M] != b[KM_M] || a[KM_D] != b[KM_D] || a[KM_FP] != b[KM_FP])
		return ECORE_EINVAL_ARG;
	for (j = 0; j < M; j++)
		if (a[KM_HDR + j] != b[KM_HDR + j])
			return ECORE_EINVAL_ARG;
	/*
	 * every model's centroids and centres first, so that a stays unchanged
	 * on failure
	 */
	pa = a + KM_HDR + M;
	pb = b + KM_HDR + M;
	for (j = 0; j < M; j++)
	{
		int			k = (int) a[KM_HDR + j];
		kp_layout	l;

		kp_layout_of(k, d, &l);
		if (memcmp(pa + KS_HDR, pb + KS_HDR, (size_t) k * d * sizeof(int64_t)) != 0 ||
			memcmp(pa + l.cent, pb + l.cent, (size_t) k * d * sizeof(int64_t)) != 0)
			return ECORE_EINVAL_ARG;
		pa += l.total;
		pb += l.total;
	}
	pa = a + KM_HDR + M;
	pb = b + KM_HDR + M;
	for (j = 0; j < M; j++)
	{
		int			k = (int) a[KM_HDR + j],
					c;
		kp_layout	l;

		kp_layout_of(k, d, &l);
		(void) ecore_kstep_merge(pa, pb);
		ecore_xsum_merge(pa + l.sil, pb + l.sil);
		for (c = 0; c < k; c++)
		{
			ecore_xsum_merge(pa + l.dist + (size_t) c * XS, pb + l.dist + (size_t) c * XS);
			ecore_xsum_merge(pa + l.sq + (size_t) c * XS, pb + l.sq + (size_t) c * XS);
		}
		pa += l.total;
		pb += l.total;
	}
	return ECORE_OK;
}

/*
 * The Davies-Bouldin and Calinski-Harabasz indexes of a model's part p
 * (see kmeans_step.h); scratch: one accumulator of work space.
 */
static int
ksteps_indexes(const int64_t *p, int k, size_t d, int64_t *acc,
			   double *davies_bouldin, double *calinski_harabasz)
{
	kp_layout	l;
	ks_layout	sl;
	const double *R;
	const int64_t *cnt;
	int64_t		n = p[KS_N],
				labelled = 0;
	double		mu[ECORE_KSTEP_MAX_D],
				s[ECORE_KSTEP_MAX_K],
				W,
				B = 0.0,
				db = 0.0;
	int			i,
				j,
				rc,
				small_s = 1,
				small_d = 1;
	size_t		f;

	*davies_bouldin = NAN;
	*calinski_harabasz = NAN;
	kp_layout_of(k, d, &l);
	ks_layout_of(k, d, &sl);
	R = (const double *) (p + l.cent);
	cnt = p + sl.counts;
	for (i = 0; i < k; i++)
		if (cnt[i] > 0)
			labelled++;
	/* scikit-learn's check_number_of_labels: 2 <= labels < n */
	if (labelled < 2 || labelled >= n)
		return ECORE_OK;

	/* mu: the exact mean of all points, rounded once */
	for (f = 0; f < d; f++)
	{
		ecore_xsum_init(acc);
		for (i = 0; i < k; i++)
			ecore_xsum_merge(acc, KS_SUM(p, &sl, i, f));
		rc = ecore_xsum_div(acc, (uint64_t) n, &mu[f]);
		if (rc != ECORE_OK)
			return rc;
	}
	/* W: the squared distances to the centres (the inertia when R = C) */
	ecore_xsum_init(acc);
	for (i = 0; i < k; i++)
		ecore_xsum_merge(acc, p[l.flag] ? KS_SUM(p, &sl, i, d) : p + l.sq + (size_t) i * XS);
	rc = ecore_xsum_value(acc, &W);
	if (rc != ECORE_OK)
		return rc;
	for (i = 0; i < k; i++)
		if (cnt[i] > 0)
			B += (double) cnt[i] * sqdist(R + (size_t) i * d, mu, d);
	*calinski_harabasz = W == 0.0 ? 1.0 :
		B * (double) (n - labelled) / (W * (double) (labelled - 1));

	/* s_i: the mean distance of cluster i's points to its centre */
	for (i = 0; i < k; i++)
	{
		if (cnt[i] == 0)
			continue;
		rc = ecore_xsum_div(p + l.dist + (size_t) i * XS, (uint64_t) cnt[i], &s[i]);
		if (rc != ECORE_OK)
			return rc;
		if (!(s[i] <= 1e-8))
			small_s = 0;
	}
	for (i = 0; i < k && small_d; i++)
		for (j = i + 1; j < k; j++)
			if (cnt[i] > 0 && cnt[j] > 0 &&
				!(sqrt(sqdist(R + (size_t) i * d, R + (size_t) j * d, d)) <= 1e-8))
			{
				small_d = 0;
				break;
			}
	if (small_s || small_d)
	{
		*davies_bouldin = 0.0;
		return ECORE_OK;
	}
	for (i = 0; i < k; i++)
	{
		double		worst = 0.0;

		if (cnt[i] == 0)
			continue;
		for (j = 0; j < k; j++)
		{
			double		dij,
						r;

			if (j == i || cnt[j] == 0)
				continue;
			dij = sqrt(sqdist(R + (size_t) i * d, R + (size_t) j * d, d));
			if (dij == 0.0)
				continue;		/* infinitely far: a ratio of 0 */
			r = (s[i] + s[j]) / dij;
			if (r > worst)
				worst = r;
		}
		db += worst;
	}
	*davies_bouldin = db / (double) labelled;
	return ECORE_OK;
}

/* Model j's results, indexes and silhouette */
int
ecore_ksteps_final(const int64_t *st, int j, int64_t *scratch,
				   ecore_kstep_out *out, double *silhouette)
{
	const int64_t *p = ksteps_model(st, j);
	int			k = (int) st[KM_HDR + j];
	size_t		d = (size_t) st[KM_D];
	kp_layout	l;
	int64_t		acc[XS];
	double		db,
				ch;
	int			rc;

	kp_layout_of(k, d, &l);
	rc = ecore_kstep_final(p, scratch, out);
	if (rc != ECORE_OK)
		return rc;
	rc = ksteps_indexes(p, k, d, acc, &db, &ch);
	if (rc != ECORE_OK)
		return rc;
	out->davies_bouldin = db;
	out->calinski_harabasz = ch;
	if (k == 1 || p[KS_N] == 0)
		*silhouette = NAN;
	else
		rc = ecore_xsum_div(p + l.sil, (uint64_t) p[KS_N], silhouette);
	return rc;
}

/* One multi-model step over points in memory */
void
ecore_ksteps_memory(int64_t *st, int M, const int *ks, size_t d,
					const double *const *C, const double *const *R,
					uint64_t fingerprint, const double *Z, size_t n,
					ecore_env *env)
{
	size_t		start,
				end,
				i;

	ecore_ksteps_init(st, M, ks, d, C, R, fingerprint);
	for (start = 0; start < n; start = end)
	{
		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(env);
		for (i = start; i < end; i++)
			ecore_ksteps_add(st, Z + i * d);
	}
}

/* Slots of ecore_ksteps_memory_threads's partial states */
size_t
ecore_ksteps_memory_parts(int M, const int *ks, size_t d, size_t n,
						  int nthreads)
{
	size_t		slots = ecore_ksteps_slots(M, ks, d);
	int			nt = ecore_par_threads(nthreads, n, ECORE_KSTEP_PAR_CHUNK);

	if (slots == 0 || nt <= 1)
		return 0;
	return slots * (size_t) (nt - 1);
}

/* What the threads of one ecore_ksteps_memory_threads share */
typedef struct kms_par
{
	int64_t    *st;				/* the caller's (thread 0's) state */
	int64_t    *parts;			/* thread t's state at t - 1 */
	size_t		slots;
	const double *Z;
	size_t		d;
} kms_par;

/* The points start .. end - 1 of a multi-model step, on thread worker */
static void
kms_par_body(void *arg, int worker, size_t start, size_t end)
{
	const kms_par *p = (const kms_par *) arg;
	int64_t    *st = worker == 0 ? p->st :
		p->parts + (size_t) (worker - 1) * p->slots;
	size_t		i;

	for (i = start; i < end; i++)
		ecore_ksteps_add(st, p->Z + i * p->d);
}

/* One multi-model step over points in memory, on threads */
void
ecore_ksteps_memory_threads(int64_t *st, int M, const int *ks, size_t d,
							const double *const *C, const double *const *R,
							uint64_t fingerprint, const double *Z, size_t n,
							int nthreads, int64_t *parts, ecore_env *env)
{
	kms_par		par;
	int			nt = parts == NULL ? 1 :
		ecore_par_threads(nthreads, n, ECORE_KSTEP_PAR_CHUNK);
	int			t;

	par.st = st;
	par.parts = parts;
	par.slots = ecore_ksteps_slots(M, ks, d);
	par.Z = Z;
	par.d = d;
	ecore_ksteps_init(st, M, ks, d, C, R, fingerprint);
	for (t = 1; t < nt; t++)
		ecore_ksteps_init(parts + (size_t) (t - 1) * par.slots, M, ks, d, C, R,
						  fingerprint);
	ecore_par_run(env, nt, n, ECORE_KSTEP_PAR_CHUNK, kms_par_body, &par);
	for (t = 1; t < nt; t++)
	{
		/* the same models and fingerprint: cannot fail */
		int			rc = ecore_ksteps_merge(st, parts + (size_t) (t - 1) * par.slots);

		(void) rc;
	}
}

/* ---------------------------------------------------------------------
 * The coreset sample of the elbow
 * ---------------------------------------------------------------------
 */

/* The measure q of a normalised point */
double
ecore_coreset_measure(const double *z, size_t d, const double *mu,
					  double total, int64_t n)
{
	double		d2 = sqdist(z, mu, d);

	return 0.5 / (double) n + (total > 0.0 ? 0.5 * (d2 / total) : 0.0);
}

/* The sampling key of a point */
double
ecore_coreset_key(uint64_t h, double q)
{
	double		u = ((double) (h >> 11) + 0.5) * 0x1.0p-53;

	return u / q;
}

/* The weight of a sampled point */
double
ecore_coreset_weight(double kappa, double q)
{
	double		w = 1.0 / (kappa * q);

	return w > 1.0 ? w : 1.0;
}

/* ---------------------------------------------------------------------
 * The m-th smallest value: a max-heap of at most m doubles
 * ---------------------------------------------------------------------
 */

#define CU_MAGIC 0
#define CU_M 1
#define CU_COUNT 2

/* Value i of the heap */
static inline double
cu_get(const int64_t *st, size_t i)
{
	return slot_dbl(st[ECORE_CUTOFF_HEADER + i]);
}

/* Set value i of the heap */
static inline void
cu_set(int64_t *st, size_t i, double x)
{
	st[ECORE_CUTOFF_HEADER + i] = dbl_slot(x);
}

/* Set up an empty state */
void
ecore_cutoff_init(int64_t *st, int64_t m)
{
	st[CU_MAGIC] = ECORE_CUTOFF_MAGIC;
	st[CU_M] = m;
	st[CU_COUNT] = 0;
}

/* Is st a valid state? */
int
ecore_cutoff_check(const int64_t *st, size_t nslots)
{
	size_t		i,
				count;

	if (st == NULL || nslots < ECORE_CUTOFF_HEADER || st[CU_MAGIC] != ECORE_CUTOFF_MAGIC ||
		st[CU_M] < 1 || st[CU_M] > ECORE_CUTOFF_MAX_M || st[CU_COUNT] < 0 ||
		(size_t) st[CU_COUNT] > nslots - ECORE_CUTOFF_HEADER ||
		nslots - ECORE_CUTOFF_HEADER > (size_t) st[CU_M])
		return ECORE_EINVAL_ARG;
	count = (size_t) st[CU_COUNT];
	for (i = 0; i < count; i++)
	{
		double		x = cu_get(st, i);

		if (x != x || (i > 0 && cu_get(st, (i - 1) / 2) < x))
			return ECORE_EINVAL_ARG;
	}
	return ECORE_OK;
}

/* m of a valid state */
int64_t
ecore_cutoff_m(const int64_t *st)
{
	return st[CU_M];
}

/* The values kept */
int64_t
ecore_cutoff_count(const int64_t *st)
{
	return st[CU_COUNT];
}

/* Add x */
int
ecore_cutoff_add(int64_t *st, size_t nslots, double x)
{
	size_t		count = (size_t) st[CU_COUNT],
				m = (size_t) st[CU_M],
				i;

	if (count < m)
	{
		if (count >= nslots - ECORE_CUTOFF_HEADER)
			return 1;
		/* sift up */
		i = count;
		while (i > 0 && cu_get(st, (i - 1) / 2) < x)
		{
			cu_set(st, i, cu_get(st, (i - 1) / 2));
			i = (i - 1) / 2;
		}
		cu_set(st, i, x);
		st[CU_COUNT] = (int64_t) (count + 1);
		return 0;
	}
	if (!(x < cu_get(st, 0)))
		return 0;
	/* replace the largest, sift down */
	i = 0;
	for (;;)
	{
		size_t		c = 2 * i + 1;

		if (c >= m)
			break;
		if (c + 1 < m && cu_get(st, c + 1) > cu_get(st, c))
			c++;
		if (!(cu_get(st, c) > x))
			break;
		cu_set(st, i, cu_get(st, c));
		i = c;
	}
	cu_set(st, i, x);
	return 0;
}

/* a += b */
int
ecore_cutoff_merge(int64_t *a, size_t nslots_a, const int64_t *b)
{
	size_t		nb = (size_t) b[CU_COUNT],
				room = nslots_a - ECORE_CUTOFF_HEADER,
				want = (size_t) (a[CU_COUNT] + b[CU_COUNT]),
				i;

	if (a[CU_M] != b[CU_M])
		return ECORE_EINVAL_ARG;
	if (want > (size_t) a[CU_M])
		want = (size_t) a[CU_M];
	if (room < want)
		return ECORE_EINVAL_ARG;
	for (i = 0; i < nb; i++)
		(void) ecore_cutoff_add(a, nslots_a, cu_get(b, i));
	return ECORE_OK;
}

/* The m-th smallest value */
int
ecore_cutoff_final(const int64_t *st, double *x)
{
	if (st[CU_COUNT] < st[CU_M])
		return 0;
	*x = cu_get(st, 0);
	return 1;
}

/* ---------------------------------------------------------------------
 * Exact quantiles in passes: header (magic, d, T, points), T targets of
 * 3 slots, then per target 256 counts, 256 smallest and 256 largest keys
 * ---------------------------------------------------------------------
 */
#define QP_MAGIC	0
#define QP_D		1
#define QP_T		2
#define QP_N		3
#define QP_HDR		4
#define QB			ECORE_QPASS_BUCKETS

/* Target t's descriptor, counts, smallest and largest keys */
#define QP_TARGET(st, t)	((st) + QP_HDR + 3 * (size_t) (t))
#define QP_COUNTS(st, t)	((st) + QP_HDR + 3 * (size_t) (st)[QP_T] + (size_t) (t) * 3 * QB)
#define QP_MINS(st, t)		(QP_COUNTS(st, t) + QB)
#define QP_MAXS(st, t)		(QP_COUNTS(st, t) + 2 * QB)

/* The order key of a value: +0 for both zeros */
static inline uint64_t
q_key(double x)
{
	if (x == 0.0)
		x = 0.0;
	return order_key(dbl_slot(x));
}

/* The value of an order key */
static double
q_value(uint64_t k)
{
	uint64_t	u = (k >> 63) ? (k & ~(UINT64_C(1) << 63)) : ~k;

	return slot_dbl((int64_t) u);
}

/* Is a target (feature f, L bits, prefix P) well formed for d features? */
static int
q_target_ok(const int64_t *tg, size_t d)
{
	return tg[0] >= 0 && (size_t) tg[0] < d && tg[1] >= 0 && tg[1] < 64 &&
		tg[1] % 8 == 0 && tg[2] >= 0 &&
		(tg[1] == 0 ? tg[2] == 0 : ((uint64_t) tg[2] >> tg[1]) == 0);
}

/* Slots of a pass state */
size_t
ecore_qpass_slots(int T)
{
	if (T < 1 || T > ECORE_QPASS_MAX_TARGETS)
		return 0;
	return QP_HDR + 3 * (size_t) T + (size_t) T * 3 * QB;
}

/* Set up an empty pass state */
int
ecore_qpass_init(int64_t *st, size_t d, int T, const int64_t *targets)
{
	int			t;

	if (d < 1 || d > ECORE_KSTEP_MAX_D || ecore_qpass_slots(T) == 0)
		return ECORE_EINVAL_ARG;
	for (t = 0; t < T; t++)
		if (!q_target_ok(targets + 3 * (size_t) t, d))
			return ECORE_EINVAL_ARG;
	memset(st, 0, ecore_qpass_slots(T) * sizeof(int64_t));
	st[QP_MAGIC] = ECORE_QPASS_MAGIC;
	st[QP_D] = (int64_t) d;
	st[QP_T] = T;
	memcpy(st + QP_HDR, targets, 3 * (size_t) T * sizeof(int64_t));
	return ECORE_OK;
}

/* Is st a valid pass state of nslots slots? */
int
ecore_qpass_check(const int64_t *st, size_t nslots)
{
	int			T,
				t,
				b;
	size_t		d;

	if (st == NULL || nslots < QP_HDR || st[QP_MAGIC] != ECORE_QPASS_MAGIC ||
		st[QP_D] < 1 || st[QP_D] > ECORE_KSTEP_MAX_D ||
		st[QP_T] < 1 || st[QP_T] > ECORE_QPASS_MAX_TARGETS ||
		nslots != ecore_qpass_slots((int) st[QP_T]) ||
		st[QP_N] < 0 || st[QP_N] > (INT64_C(1) << 62))
		return ECORE_EINVAL_ARG;
	d = (size_t) st[QP_D];
	T = (int) st[QP_T];
	for (t = 0; t < T; t++)
	{
		const int64_t *tg = QP_TARGET(st, t),
				   *cnt = QP_COUNTS(st, t),
				   *mn = QP_MINS(st, t),
				   *mx = QP_MAXS(st, t);
		int64_t		total = 0;
		int			L;

		if (!q_target_ok(tg, d))
			return ECORE_EINVAL_ARG;
		L = (int) tg[1];
		for (b = 0; b < QB; b++)
		{
			uint64_t	lo = (uint64_t) mn[b],
						hi = (uint64_t) mx[b];

			if (cnt[b] < 0 || cnt[b] > st[QP_N])
				return ECORE_EINVAL_ARG;
			total += cnt[b];
			if (cnt[b] == 0)
				continue;
			/* both keys in this bucket of this prefix, in order */
			if (lo > hi || (lo >> (56 - L)) != (((uint64_t) tg[2] << 8) | (uint64_t) b) ||
				(hi >> (56 - L)) != (((uint64_t) tg[2] << 8) | (uint64_t) b))
				return ECORE_EINVAL_ARG;
		}
		if (total > st[QP_N])
			return ECORE_EINVAL_ARG;
	}
	return ECORE_OK;
}

/* d of a valid pass state */
size_t
ecore_qpass_d(const int64_t *st)
{
	return (size_t) st[QP_D];
}

/* Does a valid pass state have these targets? */
int
ecore_qpass_same_targets(const int64_t *st, int T, const int64_t *targets)
{
	return st[QP_T] == T &&
		memcmp(st + QP_HDR, targets, 3 * (size_t) T * sizeof(int64_t)) == 0;
}

/* Is st a pass state of these targets, its header at least? */
int
ecore_qpass_header_ok(const int64_t *st, size_t nslots, int T,
					  const int64_t *targets)
{
	int			t;

	if (st == NULL || ecore_qpass_slots(T) == 0 || nslots != ecore_qpass_slots(T) ||
		st[QP_MAGIC] != ECORE_QPASS_MAGIC || st[QP_D] < 1 ||
		st[QP_D] > ECORE_KSTEP_MAX_D || !ecore_qpass_same_targets(st, T, targets))
		return 0;
	for (t = 0; t < T; t++)
		if (!q_target_ok(targets + 3 * (size_t) t, (size_t) st[QP_D]))
			return 0;
	return 1;
}

/* Add a point to a pass state */
void
ecore_qpass_add(int64_t *st, const double *x)
{
	int			T = (int) st[QP_T],
				t;
	int64_t		f = -1;
	uint64_t	k = 0;

	for (t = 0; t < T; t++)
	{
		const int64_t *tg = QP_TARGET(st, t);
		int			L = (int) tg[1];
		int64_t    *cnt;
		int			b;

		/* the targets of a feature are usually together: one key each */
		if (tg[0] != f)
		{
			f = tg[0];
			k = q_key(x[f]);
		}

		if (L > 0 && (k >> (64 - L)) != (uint64_t) tg[2])
			continue;
		b = (int) ((k >> (56 - L)) & (QB - 1));
		cnt = QP_COUNTS(st, t);
		if (cnt[b]++ == 0)
		{
			cnt[QB + b] = (int64_t) k;
			cnt[2 * QB + b] = (int64_t) k;
		}
		else
		{
			if (k < (uint64_t) cnt[QB + b])
				cnt[QB + b] = (int64_t) k;
			if (k > (uint64_t) cnt[2 * QB + b])
				cnt[2 * QB + b] = (int64_t) k;
		}
	}
	st[QP_N]++;
}

/* Merge two pass states */
int
ecore_qpass_merge(int64_t *a, const int64_t *b)
{
	int			T = (int) a[QP_T],
				t,
				i;

	if (a[QP_D] != b[QP_D] || !ecore_qpass_same_targets(a, (int) b[QP_T], b + QP_HDR))
		return ECORE_EINVAL_ARG;
	for (t = 0; t < T; t++)
	{
		int64_t    *ca = QP_COUNTS(a, t);
		const int64_t *cb = QP_COUNTS(b, t);

		for (i = 0; i < QB; i++)
		{
			if (cb[i] == 0)
				continue;
			if (ca[i] == 0)
			{
				ca[QB + i] = cb[QB + i];
				ca[2 * QB + i] = cb[2 * QB + i];
			}
			else
			{
				if ((uint64_t) cb[QB + i] < (uint64_t) ca[QB + i])
					ca[QB + i] = cb[QB + i];
				if ((uint64_t) cb[2 * QB + i] > (uint64_t) ca[2 * QB + i])
					ca[2 * QB + i] = cb[2 * QB + i];
			}
			ca[i] += cb[i];
		}
	}
	a[QP_N] += b[QP_N];
	return ECORE_OK;
}

/* Slots of the result of a pass state */
size_t
ecore_qpass_result_slots(const int64_t *st)
{
	int			T = (int) st[QP_T],
				t,
				b;
	size_t		slots = QP_HDR + 3 * (size_t) T;

	for (t = 0; t < T; t++)
	{
		const int64_t *cnt = QP_COUNTS(st, t);

		slots++;
		for (b = 0; b < QB; b++)
			if (cnt[b] != 0)
				slots += 4;
	}
	return slots;
}

/* The result of a pass state */
void
ecore_qpass_result(const int64_t *st, int64_t *out)
{
	int			T = (int) st[QP_T],
				t,
				b;
	int64_t    *o;

	memcpy(out, st, (QP_HDR + 3 * (size_t) T) * sizeof(int64_t));
	out[QP_MAGIC] = ECORE_QRES_MAGIC;
	o = out + QP_HDR + 3 * (size_t) T;
	for (t = 0; t < T; t++)
	{
		const int64_t *cnt = QP_COUNTS(st, t);
		int64_t    *m = o++;

		*m = 0;
		for (b = 0; b < QB; b++)
			if (cnt[b] != 0)
			{
				o[0] = b;
				o[1] = cnt[b];
				o[2] = cnt[QB + b];
				o[3] = cnt[2 * QB + b];
				o += 4;
				(*m)++;
			}
	}
}

/* The pass state of a result */
int
ecore_qpass_from_result(const int64_t *res, size_t nslots, int64_t *st, int *T)
{
	size_t		at,
				d;
	int			t,
				i;

	if (res == NULL || nslots < QP_HDR || res[QP_MAGIC] != ECORE_QRES_MAGIC ||
		res[QP_D] < 1 || res[QP_D] > ECORE_KSTEP_MAX_D ||
		res[QP_T] < 1 || res[QP_T] > ECORE_QPASS_MAX_TARGETS ||
		nslots < QP_HDR + 3 * (size_t) res[QP_T])
		return ECORE_EINVAL_ARG;
	d = (size_t) res[QP_D];
	*T = (int) res[QP_T];
	if (ecore_qpass_init(st, d, *T, res + QP_HDR) != ECORE_OK)
		return ECORE_EINVAL_ARG;
	st[QP_N] = res[QP_N];
	at = QP_HDR + 3 * (size_t) *T;
	for (t = 0; t < *T; t++)
	{
		int64_t    *cnt = QP_COUNTS(st, t),
					m,
					prev = -1;

		if (at >= nslots)
			return ECORE_EINVAL_ARG;
		m = res[at++];
		if (m < 0 || m > QB || (size_t) m > (nslots - at) / 4)
			return ECORE_EINVAL_ARG;
		for (i = 0; i < m; i++, at += 4)
		{
			int64_t		b = res[at];

			if (b <= prev || b >= QB || res[at + 1] < 1)
				return ECORE_EINVAL_ARG;
			cnt[b] = res[at + 1];
			cnt[QB + b] = res[at + 2];
			cnt[2 * QB + b] = res[at + 3];
			prev = b;
		}
	}
	if (at != nslots || ecore_qpass_check(st, ecore_qpass_slots(*T)) != ECORE_OK)
		return ECORE_EINVAL_ARG;
	return ECORE_OK;
}

/* Bytes of an ecore_qres's arrays */
size_t
ecore_qres_bytes(size_t d)
{
	return 6 * d * (5 * sizeof(int64_t) + sizeof(double) + 2 * sizeof(int));
}

/* Set up the driver's record */
void
ecore_qres_init(ecore_qres *q, void *mem, size_t d, int64_t n)
{
	size_t		m = 6 * d,
				j;
	int			r;

	q->d = d;
	q->n = n;
	q->passes = 0;
	q->rank = (int64_t *) mem;
	q->below = q->rank + m;
	q->prefix = (uint64_t *) (q->below + m);
	q->slot = (int64_t *) (q->prefix + m);
	q->value = (double *) (q->slot + m);
	q->bits = (int *) (q->value + m);
	q->done = q->bits + m;
	for (j = 0; j < d; j++)
	{
		size_t		want[6];

		ecore_robust_ranks((size_t) n, want);
		for (r = 0; r < 6; r++)
		{
			size_t		i = 6 * j + (size_t) r;

			q->rank[i] = (int64_t) want[r];
			q->below[i] = 0;
			q->prefix[i] = 0;
			q->bits[i] = 0;
			q->done[i] = 0;
			q->value[i] = 0.0;
			q->slot[i] = -1;
		}
	}
}

/* The targets of the next pass */
int
ecore_qres_targets(ecore_qres *q, int64_t *targets)
{
	size_t		i;
	int			T = 0,
				t;

	for (i = 0; i < 6 * q->d; i++)
	{
		int64_t		tg[3];

		q->slot[i] = -1;
		if (q->done[i])
			continue;
		tg[0] = (int64_t) (i / 6);
		tg[1] = q->bits[i];
		tg[2] = (int64_t) q->prefix[i];
		/* the ranks of a feature that share a prefix share a target */
		for (t = T - 1; t >= 0 && targets[3 * t] == tg[0]; t--)
			if (targets[3 * t + 1] == tg[1] && targets[3 * t + 2] == tg[2])
				break;
		if (t < 0 || targets[3 * t] != tg[0])
		{
			memcpy(targets + 3 * T, tg, sizeof(tg));
			t = T++;
		}
		q->slot[i] = t;
	}
	return T;
}

/* Read a pass state of the last targets */
int
ecore_qres_update(ecore_qres *q, const int64_t *st)
{
	size_t		i;

	for (i = 0; i < 6 * q->d; i++)
	{
		const int64_t *cnt;
		int64_t		cum,
					total = 0;
		int			b;

		if (q->done[i])
			continue;
		if (q->slot[i] < 0 || q->slot[i] >= st[QP_T])
			return ECORE_EINVAL_ARG;
		cnt = QP_COUNTS(st, q->slot[i]);
		for (b = 0; b < QB; b++)
			total += cnt[b];
		/* the first pass sees every value; later ones the prefix's */
		if ((q->bits[i] == 0 && total != q->n) || st[QP_N] != q->n)
			return ECORE_EINVAL_ARG;
		cum = q->below[i];
		for (b = 0; b < QB; b++)
		{
			if (q->rank[i] < cum + cnt[b])
				break;
			cum += cnt[b];
		}
		if (b == QB)
			return ECORE_EINVAL_ARG;	/* the rank is not in this prefix */
		{
			uint64_t	lo = (uint64_t) cnt[QB + b],
						hi = (uint64_t) cnt[2 * QB + b];

			if (lo == hi || q->rank[i] == cum)
			{
				q->value[i] = q_value(lo);
				q->done[i] = 1;
			}
			else if (q->rank[i] == cum + cnt[b] - 1)
			{
				q->value[i] = q_value(hi);
				q->done[i] = 1;
			}
			else if (q->bits[i] >= 56)
				return ECORE_EINVAL_ARG;	/* 64 bits: one key, cannot be */
			else
			{
				q->prefix[i] = (q->prefix[i] << 8) | (uint64_t) b;
				q->bits[i] += 8;
				q->below[i] = cum;
			}
		}
	}
	q->passes++;
	return ECORE_OK;
}

/* robust's scale and offset from the order statistics found */
void
ecore_qres_robust(const ecore_qres *q, ecore_scaler *s)
{
	size_t		j;

	for (j = 0; j < q->d; j++)
	{
		double		median,
					iqr;

		ecore_robust_params((size_t) q->n, q->value + 6 * j, &median, &iqr);
		s->scale[j] = (iqr < 10.0 * DBL_EPSILON) ? 1.0 : iqr;
		s->offset[j] = median;
	}
}

/* robust's scaler of points in memory, by the same passes */
int
ecore_qres_memory(const double *X, size_t n, size_t d, ecore_scaler *s,
				  void *work, int64_t *pass, int64_t *targets,
				  ecore_env *env)
{
	ecore_qres	q;
	int			T,
				rc;

	if (n < 1 || d < 1 || d > ECORE_KSTEP_MAX_D)
		return ECORE_EINVAL_ARG;
	ecore_qres_init(&q, work, d, (int64_t) n);
	while ((T = ecore_qres_targets(&q, targets)) > 0)
	{
		size_t		start,
					end,
					i;

		rc = ecore_qpass_init(pass, d, T, targets);
		if (rc != ECORE_OK)
			return rc;
		for (start = 0; start < n; start = end)
		{
			end = ECORE_CHUNK_END(start, n);
			ECORE_CHECK(env);
			for (i = start; i < end; i++)
				ecore_qpass_add(pass, X + i * d);
		}
		rc = ecore_qres_update(&q, pass);
		if (rc != ECORE_OK)
			return rc;
	}
	ecore_qres_robust(&q, s);
	return ECORE_OK;
}
