/*-------------------------------------------------------------------------
 *
 * kmeans_agg.c
 *	  K-means whose points never gather in one place: the scaler and the
 *	  Lloyd step as combinable aggregates (engage.scaling_agg,
 *	  engage.kmeans_step_agg), the hash that chooses a deterministic
 *	  sample (engage.sample_hash), and the driver that fits a model with
 *	  them (engage.kmeans_fit_sampled).
 *
 * The aggregates' states are plain bigint[] arrays (the slots of
 * src/core/kmeans_step.h), so parallel workers and Citus shards compute
 * partial states that the leader or the coordinator combines, with no
 * serialisation.  Every sum in them is exact (src/core/xsum.h): the
 * results are the same bits whatever the plan, the split of the rows and
 * the order of combining.  Inside an aggregate the state is updated in
 * place; called directly, a transition or combine function works on a
 * copy.  States that do not come from these functions are refused.
 *
 * The driver runs on the coordinator (or the one node): the scaler by
 * one aggregate over the points query; restarts (n_init, k-means++) by
 * the numerical core on a bounded sample, the same whatever the order and
 * the split of the rows (all points up to ECORE_ELBOW_AUTO_EXACT_MAX, else
 * the ECORE_ELBOW_AUTO_SAMPLE points of smallest sample_hash of the key);
 * then Lloyd steps over the whole points query, each one aggregate, until
 * the centroids are a fixed point (unchanged bit for bit) or max_iter.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/timestamp.h"

#include "engage.h"
#include "core/kmeans.h"
#include "core/kmeans_step.h"
#include "core/scale.h"
#include "core/xsum.h"

/* Bounds of the driver's options */
#define FIT_MAX_N_INIT		1000
#define FIT_MAX_ITER		100000
#define FIT_MAX_SAMPLE		10000000

/* ---------------------------------------------------------------------
 * bigint[] states
 * ---------------------------------------------------------------------
 */

/* A new zeroed bigint[] of n slots in the current memory context */
static ArrayType *
state_new(size_t nslots)
{
	Size		bytes = ARR_OVERHEAD_NONULLS(1) + nslots * sizeof(int64);
	ArrayType  *a;

	if (nslots > (MaxAllocSize - ARR_OVERHEAD_NONULLS(1)) / sizeof(int64))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("aggregate state too large")));
	engage_check_memory(0, bytes);
	a = (ArrayType *) palloc0(bytes);
	SET_VARSIZE(a, bytes);
	a->ndim = 1;
	a->dataoffset = 0;
	a->elemtype = INT8OID;
	ARR_DIMS(a)[0] = (int) nslots;
	ARR_LBOUND(a)[0] = 1;
	return a;
}

/*
 * The state argument argno, checked to be a one-dimensional bigint[]
 * without nulls: in place inside an aggregate (the plain array the
 * aggregate keeps), a copy otherwise.  *nslots gets its length.
 */
static ArrayType *
state_arg(FunctionCallInfo fcinfo, int argno, bool writable, size_t *nslots)
{
	ArrayType  *a;

	if (writable && AggCheckCallContext(fcinfo, NULL))
		a = PG_GETARG_ARRAYTYPE_P(argno);
	else if (writable)
		a = PG_GETARG_ARRAYTYPE_P_COPY(argno);
	else
		a = PG_GETARG_ARRAYTYPE_P(argno);
	if (ARR_ELEMTYPE(a) != INT8OID || ARR_NDIM(a) != 1 || ARR_HASNULL(a))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid aggregate state"),
				 errdetail("The state must be a bigint[] made by the aggregate's own functions.")));
	*nslots = (size_t) ARR_DIMS(a)[0];
	return a;
}

/* The slots of a state */
#define STATE_SLOTS(a) ((int64_t *) ARR_DATA_PTR(a))

/* Refuse a state that is not a valid one of its kind */
static void
state_invalid(const char *aggregate)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid %s state", aggregate),
			 errdetail("The state must be a bigint[] made by the aggregate's own functions.")));
}

/* Allocate a new state in the aggregate's memory context (or current) */
static ArrayType *
state_in_aggcontext(FunctionCallInfo fcinfo, size_t nslots)
{
	MemoryContext aggcxt;
	MemoryContext old;
	ArrayType  *a;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		aggcxt = CurrentMemoryContext;
	old = MemoryContextSwitchTo(aggcxt);
	a = state_new(nslots);
	MemoryContextSwitchTo(old);
	return a;
}

/*
 * The features argument: a one-dimensional double precision[] without
 * nulls of d elements (d = 0: any length, returned in *d).
 */
static const double *
features_arg(FunctionCallInfo fcinfo, int argno, int *d)
{
	ArrayType  *x = PG_GETARG_ARRAYTYPE_P(argno);

	if (ARR_ELEMTYPE(x) != FLOAT8OID || ARR_NDIM(x) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("features must be a one-dimensional double precision array")));
	if (ARR_HASNULL(x) && array_contains_nulls(x))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("features must not contain nulls"),
				 errhint("Leave such points out, or replace the NULL with coalesce().")));
	if (*d == 0)
	{
		*d = ARR_DIMS(x)[0];
		if (*d < 1 || *d > ECORE_KSTEP_MAX_D)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("features must have between 1 and %d elements, not %d",
							ECORE_KSTEP_MAX_D, *d)));
	}
	else if (ARR_DIMS(x)[0] != *d)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("features have %d elements, the points before them have %d",
						ARR_DIMS(x)[0], *d)));
	return (const double *) ARR_DATA_PTR(x);
}

/* Report a feature value the core refused (status rc, feature col) */
static void
feature_error(int rc, const double *x, size_t col, const char *space)
{
	if (rc == ECORE_ENONFINITE)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("feature %zu is %s", col + 1, isnan(x[col]) ? "NaN" : "infinite"),
				 errhint("Leave such points out.")));
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("feature %zu (%g) is too large", col + 1, x[col]),
			 errdetail("%s, features must be at most 1e100 in magnitude.", space)));
}

/* Report a sum past the range of double precision */
static void
sum_out_of_range(const char *aggregate)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("%s result is out of range for double precision", aggregate)));
}

/* Parse a normalization name */
static ecore_scale_method
normalization_arg(text *t)
{
	char	   *name = text_to_cstring(t);
	ecore_scale_method m;

	if (ecore_scale_method_parse(name, &m) != ECORE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown normalization \"%s\"", name),
				 errhint("Use \"zscore\", \"minmax\" or \"none\".")));
	return m;
}

/* A float8[] of n values */
static ArrayType *
float8_array(const double *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = Float8GetDatum(v[i]);
	return construct_array(d, n, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
						   TYPALIGN_DOUBLE);
}

/* A k x d float8[][] */
static ArrayType *
float8_matrix(const double *v, int k, int d)
{
	Datum	   *e = palloc(sizeof(Datum) * k * d);
	int			dims[2] = {k, d};
	int			lbs[2] = {1, 1};
	int			i;

	for (i = 0; i < k * d; i++)
		e[i] = Float8GetDatum(v[i]);
	return construct_md_array(e, NULL, 2, dims, lbs, FLOAT8OID, sizeof(float8),
							  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/* A bigint[] of n values */
static ArrayType *
int8_array(const int64 *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = Int64GetDatum(v[i]);
	return construct_array(d, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL,
						   TYPALIGN_DOUBLE);
}

/* ---------------------------------------------------------------------
 * scaling_agg(features double precision[] [, normalization text])
 * ---------------------------------------------------------------------
 */

/*
 * Transition: rows with NULL features are skipped; the normalization
 * (default zscore) must be the same on every row.
 */
PG_FUNCTION_INFO_V1(engage_scaling_accum);
Datum
engage_scaling_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	int64_t    *st;
	const double *x;
	ecore_scale_method method = ECORE_SCALE_ZSCORE;
	size_t		nslots,
				col;
	int			d = 0,
				rc;

	if (PG_NARGS() > 2)
	{
		if (PG_ARGISNULL(2))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("normalization must not be null")));
		method = normalization_arg(PG_GETARG_TEXT_PP(2));
	}
	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	if (PG_ARGISNULL(0))
	{
		x = features_arg(fcinfo, 1, &d);
		state = state_in_aggcontext(fcinfo, ecore_scaleagg_slots((size_t) d));
		ecore_scaleagg_init(STATE_SLOTS(state), (size_t) d, method);
	}
	else
	{
		state = state_arg(fcinfo, 0, true, &nslots);
		if (ecore_scaleagg_check(STATE_SLOTS(state), nslots) != ECORE_OK)
			state_invalid("scaling_agg");
		d = (int) ecore_scaleagg_d(STATE_SLOTS(state));
		if (ecore_scaleagg_method(STATE_SLOTS(state)) != method)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("normalization must be the same on every row")));
		x = features_arg(fcinfo, 1, &d);
	}
	st = STATE_SLOTS(state);
	rc = ecore_scaleagg_add(st, x, &col);
	if (rc != ECORE_OK)
		feature_error(rc, x, col, "As points");
	PG_RETURN_ARRAYTYPE_P(state);
}

/* Combine two partial states of scaling_agg */
PG_FUNCTION_INFO_V1(engage_scaling_combine);
Datum
engage_scaling_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *a,
			   *b;
	size_t		na,
				nb;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	b = state_arg(fcinfo, 1, false, &nb);
	if (ecore_scaleagg_check(STATE_SLOTS(b), nb) != ECORE_OK)
		state_invalid("scaling_agg");
	if (PG_ARGISNULL(0))
		PG_RETURN_DATUM(PG_GETARG_DATUM(1));
	a = state_arg(fcinfo, 0, true, &na);
	if (ecore_scaleagg_check(STATE_SLOTS(a), na) != ECORE_OK)
		state_invalid("scaling_agg");
	if (ecore_scaleagg_merge(STATE_SLOTS(a), STATE_SLOTS(b)) != ECORE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine scaling_agg states of different features or normalizations")));
	PG_RETURN_ARRAYTYPE_P(a);
}

/*
 * Final: engage.scaling (normalization, n_points, mean, std, min, max,
 * scale, shift), each array one element per feature; NULL without rows.
 */
PG_FUNCTION_INFO_V1(engage_scaling_final);
Datum
engage_scaling_final(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	int64_t    *st;
	size_t		nslots,
				j;
	int			d,
				rc;
	ecore_scaler s;
	double	   *buf;
	TupleDesc	tupdesc;
	Datum		values[8];
	bool		nulls[8] = {false};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = state_arg(fcinfo, 0, false, &nslots);
	st = STATE_SLOTS(state);
	if (ecore_scaleagg_check(st, nslots) != ECORE_OK)
		state_invalid("scaling_agg");
	d = (int) ecore_scaleagg_d(st);
	buf = palloc(sizeof(double) * 6 * d);
	s.method = ecore_scaleagg_method(st);
	s.d = d;
	s.mean = buf;
	s.var = buf + d;
	s.data_min = buf + 2 * d;
	s.data_max = buf + 3 * d;
	s.scale = buf + 4 * d;
	s.offset = buf + 5 * d;
	rc = ecore_scaleagg_final(st, &s);
	if (rc == ECORE_EINVAL_N)
		PG_RETURN_NULL();
	if (rc != ECORE_OK)
		sum_out_of_range("scaling_agg");
	for (j = 0; j < (size_t) d; j++)
		s.var[j] = sqrt(s.var[j]);	/* the std, as scaling_params */
	tupdesc = engage_result_tupdesc(fcinfo, 8, "engage.scaling");
	values[0] = CStringGetTextDatum(ecore_scale_method_name(s.method));
	values[1] = Int64GetDatum(ecore_scaleagg_n(st));
	values[2] = PointerGetDatum(float8_array(s.mean, d));
	values[3] = PointerGetDatum(float8_array(s.var, d));
	values[4] = PointerGetDatum(float8_array(s.data_min, d));
	values[5] = PointerGetDatum(float8_array(s.data_max, d));
	values[6] = PointerGetDatum(float8_array(s.scale, d));
	values[7] = PointerGetDatum(float8_array(s.offset, d));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* ---------------------------------------------------------------------
 * kmeans_step_agg(model engage.kmeans_model, features double precision[])
 * ---------------------------------------------------------------------
 */

/*
 * The model of a step, parsed once per query (fn_extra) and kept with a
 * copy of its bytes, so that a row whose model differs is noticed.
 */
typedef struct StepModel
{
	Size		len;
	char	   *bytes;			/* the model datum, flat */
	int			k;
	int			d;
	ecore_scaler scaler;		/* method, scale and shift */
	double	   *C;				/* k x d, normalised */
	uint64_t	fingerprint;	/* of method, scale and shift */
} StepModel;

/* A float8[] attribute of a model, checked: ndim dimensions, finite */
static double *
model_array(HeapTupleHeader model, const char *name, int ndim, int *dims,
			double limit, MemoryContext cxt)
{
	bool		isnull;
	Datum		value = GetAttributeByName(model, name, &isnull);
	ArrayType  *arr;
	double	   *out;
	int			i,
				n;

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the model's %s is null", name)));
	arr = DatumGetArrayTypeP(value);
	if (ARR_ELEMTYPE(arr) != FLOAT8OID || ARR_NDIM(arr) != ndim ||
		(ARR_HASNULL(arr) && array_contains_nulls(arr)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the model's %s is not a %d-dimensional double precision array without nulls",
						name, ndim)));
	for (i = 0; i < ndim; i++)
		dims[i] = ARR_DIMS(arr)[i];
	n = ArrayGetNItems(ndim, dims);
	out = MemoryContextAlloc(cxt, sizeof(double) * Max(n, 1));
	memcpy(out, ARR_DATA_PTR(arr), sizeof(double) * n);
	for (i = 0; i < n; i++)
		if (!isfinite(out[i]) || fabs(out[i]) > limit ||
			(strcmp(name, "scale") == 0 && out[i] == 0.0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the model's %s has an invalid element %g", name, out[i]),
					 errhint("Use a model made by engage.kmeans_model or engage.kmeans_fit_sampled.")));
	return out;
}

/* 64-bit fingerprint of a scaler's method, scale and shift */
static uint64_t
scaler_fingerprint(const ecore_scaler *s)
{
	uint64_t	h;

	h = ecore_sample_hash((uint64_t) s->method, s->scale, s->d * sizeof(double));
	return ecore_sample_hash(h, s->offset, s->d * sizeof(double));
}

/* The model argument of a step, parsed (cached in fn_extra) */
static StepModel *
step_model(FunctionCallInfo fcinfo)
{
	StepModel  *m = (StepModel *) fcinfo->flinfo->fn_extra;
	struct varlena *raw;
	HeapTupleHeader model;
	MemoryContext cxt = fcinfo->flinfo->fn_mcxt;
	bool		isnull;
	Datum		method;
	int			dims[2];
	Size		len;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model must not be null")));
	raw = PG_DETOAST_DATUM(PG_GETARG_DATUM(1));
	len = VARSIZE(raw);
	if (m != NULL && m->len == len && memcmp(m->bytes, raw, len) == 0)
		return m;
	if (m == NULL)
		m = MemoryContextAllocZero(cxt, sizeof(StepModel));
	else
	{
		pfree(m->bytes);
		pfree(m->scaler.scale);
		pfree(m->scaler.offset);
		pfree(m->C);
		memset(m, 0, sizeof(StepModel));
	}
	fcinfo->flinfo->fn_extra = NULL;
	model = (HeapTupleHeader) raw;
	m->scaler.scale = model_array(model, "scale", 1, dims, DBL_MAX, cxt);
	m->d = dims[0];
	m->scaler.offset = model_array(model, "shift", 1, dims, DBL_MAX, cxt);
	if (dims[0] != m->d || m->d < 1 || m->d > ECORE_KSTEP_MAX_D)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the model's scale and shift must have the same length, between 1 and %d",
						ECORE_KSTEP_MAX_D)));
	m->C = model_array(model, "centroids_normalized", 2, dims,
					   ECORE_MAX_ABS_CENTROID, cxt);
	m->k = dims[0];
	if (dims[1] != m->d || m->k < 1 || m->k > ECORE_KSTEP_MAX_K)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the model's centroids must be k x %d with k between 1 and %d",
						m->d, ECORE_KSTEP_MAX_K)));
	method = GetAttributeByName(model, "normalization", &isnull);
	if (isnull ||
		ecore_scale_method_parse(TextDatumGetCString(method), &m->scaler.method) != ECORE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the model's normalization is not \"zscore\", \"minmax\" or \"none\"")));
	m->scaler.d = m->d;
	m->scaler.mean = m->scaler.var = m->scaler.data_min = m->scaler.data_max =
		m->scaler.scale;
	m->fingerprint = scaler_fingerprint(&m->scaler);
	m->bytes = MemoryContextAlloc(cxt, len);
	memcpy(m->bytes, raw, len);
	m->len = len;
	fcinfo->flinfo->fn_extra = m;
	return m;
}

/*
 * Transition: the point, normalised with the model's scale and shift as
 * kmeans_predict normalises it, added to the step state of the model's
 * centroids.  Rows with NULL features are skipped.
 */
PG_FUNCTION_INFO_V1(engage_kmeans_step_accum);
Datum
engage_kmeans_step_accum(PG_FUNCTION_ARGS)
{
	StepModel  *m = step_model(fcinfo);
	ArrayType  *state;
	int64_t    *st;
	const double *x;
	double		z[ECORE_KSTEP_MAX_D];
	size_t		nslots,
				col;
	int			d = m->d,
				rc;
	ecore_env	env;

	if (PG_ARGISNULL(2))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	x = features_arg(fcinfo, 2, &d);
	if (PG_ARGISNULL(0))
	{
		state = state_in_aggcontext(fcinfo, ecore_kstep_slots(m->k, (size_t) d));
		ecore_kstep_init(STATE_SLOTS(state), m->k, (size_t) d, m->C, m->fingerprint);
	}
	else
	{
		state = state_arg(fcinfo, 0, true, &nslots);
		st = STATE_SLOTS(state);
		/* a state made here for this model needs no full check */
		if (nslots != ecore_kstep_slots(m->k, (size_t) d) ||
			st[0] != ECORE_KSTEP_MAGIC || ecore_kstep_k(st) != m->k ||
			ecore_kstep_d(st) != (size_t) d ||
			ecore_kstep_fingerprint(st) != m->fingerprint ||
			!ecore_kstep_same_centroids(st, m->C))
		{
			if (ecore_kstep_check(st, nslots) != ECORE_OK)
				state_invalid("kmeans_step_agg");
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the model must be the same on every row of a group")));
		}
	}
	st = STATE_SLOTS(state);
	memset(&env, 0, sizeof(env));
	rc = ecore_check_row(x, (size_t) d, INFINITY, &col);
	if (rc == ECORE_OK)
		rc = ecore_scaler_transform(&m->scaler, x, 1, z, &env);
	if (rc != ECORE_OK)
		feature_error(rc, x, col, "As points");
	rc = ecore_check_row(z, (size_t) d, ECORE_MAX_ABS, &col);
	if (rc != ECORE_OK)
		feature_error(rc, z, col, "Normalized");
	ecore_kstep_add(st, m->C, z);
	PG_RETURN_ARRAYTYPE_P(state);
}

/* Combine two partial states of kmeans_step_agg */
PG_FUNCTION_INFO_V1(engage_kmeans_step_combine);
Datum
engage_kmeans_step_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *a,
			   *b;
	size_t		na,
				nb;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	b = state_arg(fcinfo, 1, false, &nb);
	if (ecore_kstep_check(STATE_SLOTS(b), nb) != ECORE_OK)
		state_invalid("kmeans_step_agg");
	if (PG_ARGISNULL(0))
		PG_RETURN_DATUM(PG_GETARG_DATUM(1));
	a = state_arg(fcinfo, 0, true, &na);
	if (ecore_kstep_check(STATE_SLOTS(a), na) != ECORE_OK)
		state_invalid("kmeans_step_agg");
	if (ecore_kstep_merge(STATE_SLOTS(a), STATE_SLOTS(b)) != ECORE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine kmeans_step_agg states of different models")));
	PG_RETURN_ARRAYTYPE_P(a);
}

/*
 * Final: engage.kmeans_step (centroids_normalized: the next k x d
 * centroids; sizes, cluster_inertia and inertia of the assignment to the
 * model's centroids; n_points; empty_clusters; converged: the next
 * centroids are the model's, bit for bit).  NULL without rows.
 */
PG_FUNCTION_INFO_V1(engage_kmeans_step_final);
Datum
engage_kmeans_step_final(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	int64_t    *st,
			   *scratch;
	size_t		nslots;
	int			k,
				d,
				rc;
	ecore_kstep_out out;
	TupleDesc	tupdesc;
	Datum		values[7];
	bool		nulls[7] = {false};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = state_arg(fcinfo, 0, false, &nslots);
	st = STATE_SLOTS(state);
	if (ecore_kstep_check(st, nslots) != ECORE_OK)
		state_invalid("kmeans_step_agg");
	k = ecore_kstep_k(st);
	d = (int) ecore_kstep_d(st);
	engage_check_memory(0, nslots * sizeof(int64));
	scratch = palloc(nslots * sizeof(int64));
	out.next = palloc(sizeof(double) * k * d);
	out.sizes = palloc(sizeof(int64_t) * k);
	out.cluster_inertia = palloc(sizeof(double) * k);
	rc = ecore_kstep_final(st, scratch, &out);
	if (rc != ECORE_OK)
		sum_out_of_range("kmeans_step_agg");
	tupdesc = engage_result_tupdesc(fcinfo, 7, "engage.kmeans_step");
	values[0] = PointerGetDatum(float8_matrix(out.next, k, d));
	values[1] = PointerGetDatum(int8_array((int64 *) out.sizes, k));
	values[2] = PointerGetDatum(float8_array(out.cluster_inertia, k));
	values[3] = Float8GetDatum(out.inertia);
	values[4] = Int64GetDatum(out.n);
	values[5] = Int32GetDatum(out.empty);
	values[6] = BoolGetDatum(out.fixed_point != 0);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* ---------------------------------------------------------------------
 * sample_hash(key text, seed bigint)
 * ---------------------------------------------------------------------
 */

/*
 * The hash that chooses elbow_inertia's sample and kmeans_fit_sampled's:
 * ecore_sample_hash of the key's bytes with the seed, as a bigint.  The
 * same on every server and worker.
 */
PG_FUNCTION_INFO_V1(engage_sample_hash);
Datum
engage_sample_hash(PG_FUNCTION_ARGS)
{
	text	   *key = PG_GETARG_TEXT_PP(0);
	int64		seed = PG_GETARG_INT64(1);

	PG_RETURN_INT64((int64) ecore_sample_hash((uint64_t) seed, VARDATA_ANY(key),
											  VARSIZE_ANY_EXHDR(key)));
}

/* ---------------------------------------------------------------------
 * kmeans_fit_sampled(points, k, normalization, n_init, max_iter, seed,
 *					  init, sample)
 * ---------------------------------------------------------------------
 */

/* What the driver knows of the points query */
typedef struct FitQuery
{
	char	   *from;			/* "(points) AS p(k, f1, ...)" */
	char	   *features;		/* the float8[] expression of a row */
	const char *schema;		/* engage's schema, quoted */
	int			d;				/* features (0 in array mode until read) */
	bool		array_mode;
	char	  **names;			/* feature names (array mode: f1..fd) */
} FitQuery;

/* Is a column type one the points query may use for a feature? */
static bool
numeric_type(Oid type)
{
	return type == INT2OID || type == INT4OID || type == INT8OID ||
		type == FLOAT4OID || type == FLOAT8OID || type == NUMERICOID;
}

/* Describe the points query: columns, feature names, SQL fragments */
static void
fit_query(const char *points, Oid fn_oid, FitQuery *q)
{
	SPIPlanPtr	plan;
	List	   *sources;
	CachedPlanSource *src;
	TupleDesc	desc;
	StringInfoData from,
				feat;
	int			j,
				natts;

	plan = SPI_prepare(points, 0, NULL);
	if (plan == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the points query could not be prepared: %s",
						SPI_result_code_string(SPI_result))));
	sources = SPI_plan_get_plan_sources(plan);
	if (list_length(sources) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the points query must be one SELECT")));
	src = (CachedPlanSource *) linitial(sources);
	desc = src->resultDesc;
	if (desc == NULL || src->commandTag != CMDTAG_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the points query must be one SELECT")));
	natts = desc->natts;
	if (natts < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the points query returns %d column, at least 2 are needed", natts)));
	q->array_mode = (natts == 2 && TupleDescAttr(desc, 1)->atttypid == FLOAT8ARRAYOID);
	q->schema = quote_identifier(get_namespace_name(get_func_namespace(fn_oid)));
	initStringInfo(&from);
	initStringInfo(&feat);
	appendStringInfo(&from, "(\n%s\n) AS p(k", points);
	if (q->array_mode)
	{
		appendStringInfoString(&from, ", f1)");
		appendStringInfoString(&feat, "p.f1");
		q->d = 0;
		q->names = NULL;
	}
	else
	{
		q->d = natts - 1;
		if (q->d > ECORE_KSTEP_MAX_D)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("the points query has %d features, at most %d are supported",
							q->d, ECORE_KSTEP_MAX_D)));
		q->names = palloc(sizeof(char *) * q->d);
		appendStringInfoString(&feat, "ARRAY[");
		for (j = 1; j < natts; j++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, j);

			if (!numeric_type(att->atttypid))
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("feature column \"%s\" has type %s, which is not numeric",
								NameStr(att->attname), format_type_be(att->atttypid))));
			q->names[j - 1] = pstrdup(NameStr(att->attname));
			appendStringInfo(&from, ", f%d", j);
			appendStringInfo(&feat, "%sp.f%d::double precision", j > 1 ? ", " : "", j);
		}
		appendStringInfoString(&from, ")");
		appendStringInfoString(&feat, "]");
	}
	q->from = from.data;
	q->features = feat.data;
	SPI_freeplan(plan);
}

/* Run a one-row read-only query with arguments; its first value or NULL */
static HeapTupleHeader
fit_query_row(const char *sql, int nargs, Oid *types, Datum *values)
{
	int			rc;
	bool		isnull;
	Datum		v;

	rc = SPI_execute_with_args(sql, nargs, types, values, NULL, true, 2);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "unexpected result of an internal query of kmeans_fit_sampled");
	v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? NULL : DatumGetHeapTupleHeader(v);
}

/* A float8[] attribute of a composite, its elements into out (n) */
static void
composite_floats(HeapTupleHeader t, const char *name, double *out, int n)
{
	bool		isnull;
	ArrayType  *a = DatumGetArrayTypeP(GetAttributeByName(t, name, &isnull));

	if (isnull || ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a)) != n)
		elog(ERROR, "unexpected %s of an internal query of kmeans_fit_sampled", name);
	memcpy(out, ARR_DATA_PTR(a), sizeof(double) * n);
}

/* A bigint[] attribute of a composite into out (n) */
static void
composite_int8s(HeapTupleHeader t, const char *name, int64 *out, int n)
{
	bool		isnull;
	ArrayType  *a = DatumGetArrayTypeP(GetAttributeByName(t, name, &isnull));

	if (isnull || ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a)) != n)
		elog(ERROR, "unexpected %s of an internal query of kmeans_fit_sampled", name);
	memcpy(out, ARR_DATA_PTR(a), sizeof(int64) * n);
}

/* Core allocator: palloc (huge) in the given context */
static void *
fit_alloc(void *arg, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) arg, size, MCXT_ALLOC_HUGE);
}

/* Core interrupt check (the fit runs without threads) */
static void
fit_check(void *arg)
{
	(void) arg;
	CHECK_FOR_INTERRUPTS();
}

/*
 * Read the sample (or every point) in a deterministic order and normalise
 * it with the scaler: *m points of d features.
 */
static double *
fit_sample(FitQuery *q, const ecore_scaler *s, int64 n, int64 m, int64 seed,
		   int64 *out_m)
{
	StringInfoData sql;
	Oid			types[2] = {INT8OID, INT8OID};
	Datum		values[2];
	double	   *X;
	uint64		i;
	int			rc;
	ecore_env	env;
	int			d = s->d;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s FROM %s ORDER BY ", q->features, q->from);
	if (m < n)
		appendStringInfo(&sql, "%s.sample_hash(p.k::text, $1), ", q->schema);
	appendStringInfoString(&sql, "p.k::text COLLATE \"C\", 1 LIMIT $2");
	values[0] = Int64GetDatum(seed);
	values[1] = Int64GetDatum(m);
	engage_check_memory(0, (Size) m * d * sizeof(double) * 3);
	rc = SPI_execute_with_args(sql.data, 2, types, values, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "unexpected result of the sample query of kmeans_fit_sampled");
	X = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(SPI_processed, 1) * d);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		ArrayType  *a = DatumGetArrayTypeP(SPI_getbinval(SPI_tuptable->vals[i],
														 SPI_tuptable->tupdesc, 1, &isnull));

		if (isnull || ARR_NDIM(a) != 1 || ARR_DIMS(a)[0] != d ||
			(ARR_HASNULL(a) && array_contains_nulls(a)))
			elog(ERROR, "unexpected sample point of kmeans_fit_sampled");
		memcpy(X + i * d, ARR_DATA_PTR(a), sizeof(double) * d);
		if ((i & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	*out_m = (int64) SPI_processed;
	memset(&env, 0, sizeof(env));
	env.check = fit_check;
	rc = ecore_scaler_transform(s, X, SPI_processed, X, &env);
	if (rc != ECORE_OK)
		elog(ERROR, "the sample of kmeans_fit_sampled could not be normalised");
	SPI_freetuptable(SPI_tuptable);
	return X;
}

/* Order of clusters for the final labels: norm, lexicographic, index */
static int
cluster_before(const double *C, const double *norms, int d, int a, int b)
{
	int			f;

	if (norms[a] != norms[b])
		return norms[a] < norms[b];
	for (f = 0; f < d; f++)
		if (C[a * d + f] != C[b * d + f])
			return C[a * d + f] < C[b * d + f];
	return a < b;
}

/*
 * kmeans_fit_sampled: see the file header.  Returns engage.kmeans_model,
 * clusters numbered by ascending centroid norm as kmeans_model's.
 */
PG_FUNCTION_INFO_V1(engage_kmeans_fit_sampled);
Datum
engage_kmeans_fit_sampled(PG_FUNCTION_ARGS)
{
	char	   *points;
	int			k,
				n_init,
				max_iter,
				d,
				it,
				j,
				f;
	ecore_scale_method method;
	int64		seed,
				n,
				m,
				m_read;
	ecore_kmeans_init init;
	bool		auto_sample = PG_ARGISNULL(7);
	int64		sample = auto_sample ? 0 : PG_GETARG_INT32(7);
	TupleDesc	tupdesc;
	Oid			model_type;
	FitQuery	q;
	HeapTupleHeader scal,
				step = NULL;
	ecore_scaler s;
	double	   *X,
			   *C,
			   *next,
			   *orig,
			   *norms,
			   *ci,
			   *ci_sorted,
			   *C_sorted;
	int64	   *sizes,
			   *sizes_sorted;
	int		   *perm;
	ArrayType  *names;
	double		inertia = 0.0;
	bool		converged = false,
				isnull;
	ecore_kmeans_params params;
	ecore_kmeans_result res;
	ecore_env	env;
	StringInfoData sql;
	MemoryContext caller = CurrentMemoryContext;
	TimestampTz start = GetCurrentTimestamp();
	Datum		values[12];
	bool		nulls[12] = {false};
	HeapTuple	result;
	int			rc,
				nestlevel;

	engage_require_arg(fcinfo, 0, "points");
	engage_require_arg(fcinfo, 1, "k");
	engage_require_arg(fcinfo, 2, "normalization");
	engage_require_arg(fcinfo, 3, "n_init");
	engage_require_arg(fcinfo, 4, "max_iter");
	engage_require_arg(fcinfo, 5, "seed");
	engage_require_arg(fcinfo, 6, "init");
	points = text_to_cstring(PG_GETARG_TEXT_PP(0));
	k = PG_GETARG_INT32(1);
	method = normalization_arg(PG_GETARG_TEXT_PP(2));
	n_init = PG_GETARG_INT32(3);
	max_iter = PG_GETARG_INT32(4);
	seed = PG_GETARG_INT64(5);
	if (k < 1 || k > ECORE_KSTEP_MAX_K)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be between 1 and %d, not %d", ECORE_KSTEP_MAX_K, k)));
	if (n_init < 1 || n_init > FIT_MAX_N_INIT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_init must be between 1 and %d, not %d", FIT_MAX_N_INIT, n_init)));
	if (max_iter < 1 || max_iter > FIT_MAX_ITER)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_iter must be between 1 and %d, not %d", FIT_MAX_ITER, max_iter)));
	if (ecore_kmeans_init_parse(text_to_cstring(PG_GETARG_TEXT_PP(6)), &init) != ECORE_OK ||
		init == ECORE_INIT_USER)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown init \"%s\"", text_to_cstring(PG_GETARG_TEXT_PP(6))),
				 errhint("Use \"k-means++\" or \"random\".")));
	if (!auto_sample && (sample < 0 || sample > FIT_MAX_SAMPLE))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sample must be between 0 and %d, not %lld",
						FIT_MAX_SAMPLE, (long long) sample)));
	if (get_call_result_type(fcinfo, &model_type, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	SPI_connect();
	/*
	 * Every query runs read-only (transaction_read_only, restored on return
	 * or error), so that functions the points query calls cannot change
	 * data: as kmeans_cluster's points query (points.c)
	 */
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("transaction_read_only", "on", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	fit_query(points, fcinfo->flinfo->fn_oid, &q);

	/* 1: the scaler, one aggregate over every point */
	{
		Oid			types[1] = {TEXTOID};
		Datum		args[1];

		initStringInfo(&sql);
		appendStringInfo(&sql, "SELECT %s.scaling_agg(%s, $1) FROM %s",
						 q.schema, q.features, q.from);
		args[0] = CStringGetTextDatum(ecore_scale_method_name(method));
		scal = fit_query_row(sql.data, 1, types, args);
	}
	if (scal == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the points query returned no rows"),
				 errhint("Check the query's WHERE clause and the table it reads.")));
	n = DatumGetInt64(GetAttributeByName(scal, "n_points", &isnull));
	{
		ArrayType  *a = DatumGetArrayTypeP(GetAttributeByName(scal, "scale", &isnull));

		d = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
	}
	if (q.array_mode)
	{
		q.d = d;
		q.names = palloc(sizeof(char *) * d);
		for (j = 0; j < d; j++)
			q.names[j] = psprintf("f%d", j + 1);
	}
	memset(&s, 0, sizeof(s));
	s.method = method;
	s.d = d;
	s.scale = palloc(sizeof(double) * d);
	s.offset = palloc(sizeof(double) * d);
	composite_floats(scal, "scale", s.scale, d);
	composite_floats(scal, "shift", s.offset, d);
	s.mean = s.var = s.data_min = s.data_max = s.scale;
	if (engage_progress)
		engage_progress_notice(start, "kmeans_fit_sampled: scaler of %lld points",
							   (long long) n);

	/* 2: restarts on the sample (every point up to the elbow's limit) */
	if (auto_sample)
		m = n <= ECORE_ELBOW_AUTO_EXACT_MAX ? n : ECORE_ELBOW_AUTO_SAMPLE;
	else
		m = (sample == 0 || sample > n) ? n : sample;
	if (m < k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the sample of %lld points is smaller than k = %d",
						(long long) m, k)));
	X = fit_sample(&q, &s, n, m, seed, &m_read);
	memset(&env, 0, sizeof(env));
	env.alloc = fit_alloc;
	env.alloc_arg = CurrentMemoryContext;
	env.check = fit_check;
	ecore_kmeans_params_default(&params);
	params.k = k;
	params.init = init;
	params.n_init = n_init;
	params.max_iter = max_iter;
	params.seed = (uint64_t) seed;
	params.n_threads = 1;
	{
		size_t		bytes;

		rc = ecore_kmeans_bytes((size_t) m_read, (size_t) d, &params, &bytes);
		if (rc == ECORE_OK)
		{
			engage_check_memory((Size) m_read * d * sizeof(double) * 3, bytes);
			rc = ecore_kmeans_fit(X, (size_t) m_read, (size_t) d, &params, &env, &res);
		}
	}
	if (rc != ECORE_OK)
		ereport(ERROR,
				(errcode(rc == ECORE_ENOMEM || rc == ECORE_EOVERFLOW ?
						 ERRCODE_PROGRAM_LIMIT_EXCEEDED : ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", ecore_strerror(rc)),
				 errcontext("kmeans_fit_sampled: restarts on a sample of %lld points",
							(long long) m_read)));
	C = palloc(sizeof(double) * k * d);
	next = palloc(sizeof(double) * k * d);
	memcpy(C, res.centroids, sizeof(double) * k * d);
	if (engage_progress)
		engage_progress_notice(start, "kmeans_fit_sampled: %d restarts on %lld points",
							   n_init, (long long) m_read);

	/* 3: Lloyd steps over every point, each one aggregate */
	{
		Datum	   *nd = palloc(sizeof(Datum) * d);

		for (j = 0; j < d; j++)
			nd[j] = CStringGetTextDatum(q.names[j]);
		names = construct_array(nd, d, TEXTOID, -1, false, TYPALIGN_INT);
	}
	orig = palloc(sizeof(double) * k * d);
	sizes = palloc(sizeof(int64) * k);
	ci = palloc(sizeof(double) * k);
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s.kmeans_step_agg($1, %s) FROM %s",
					 q.schema, q.features, q.from);
	for (it = 1; it <= max_iter; it++)
	{
		Datum		mv[12];
		bool		mn[12] = {false};
		Oid			types[1] = {model_type};
		Datum		args[1];

		memset(&env, 0, sizeof(env));
		ecore_scaler_inverse_transform(&s, C, k, orig, &env);
		mv[0] = PointerGetDatum(names);
		mv[1] = CStringGetTextDatum(ecore_scale_method_name(method));
		mv[2] = PointerGetDatum(float8_array(s.scale, d));
		mv[3] = PointerGetDatum(float8_array(s.offset, d));
		mv[4] = PointerGetDatum(float8_matrix(orig, k, d));
		mv[5] = PointerGetDatum(float8_matrix(C, k, d));
		mn[6] = mn[7] = mn[8] = mn[9] = mn[10] = mn[11] = true;
		args[0] = HeapTupleGetDatum(heap_form_tuple(tupdesc, mv, mn));
		step = fit_query_row(sql.data, 1, types, args);
		if (step == NULL)
			elog(ERROR, "the points query of kmeans_fit_sampled returned no rows on step %d", it);
		composite_floats(step, "centroids_normalized", next, k * d);
		composite_int8s(step, "sizes", sizes, k);
		composite_floats(step, "cluster_inertia", ci, k);
		inertia = DatumGetFloat8(GetAttributeByName(step, "inertia", &isnull));
		n = DatumGetInt64(GetAttributeByName(step, "n_points", &isnull));
		converged = DatumGetBool(GetAttributeByName(step, "converged", &isnull));
		if (engage_progress)
			engage_progress_notice(start, "kmeans_fit_sampled: step %d, inertia %.17g",
								   it, inertia);
		if (converged || it == max_iter)
			break;
		memcpy(C, next, sizeof(double) * k * d);
		SPI_freetuptable(SPI_tuptable);
	}
	if (it > max_iter)
		it = max_iter;

	/* 4: clusters numbered by ascending norm of the normalised centroid */
	norms = palloc(sizeof(double) * k);
	perm = palloc(sizeof(int) * k);
	for (j = 0; j < k; j++)
	{
		double		acc = 0.0;

		for (f = 0; f < d; f++)
			acc += C[j * d + f] * C[j * d + f];
		norms[j] = sqrt(acc);
		perm[j] = j;
	}
	for (j = 1; j < k; j++)
	{
		int			t = perm[j],
					i = j;

		while (i > 0 && cluster_before(C, norms, d, t, perm[i - 1]))
		{
			perm[i] = perm[i - 1];
			i--;
		}
		perm[i] = t;
	}
	/* the result, in the caller's memory context (SPI's goes at the end) */
	MemoryContextSwitchTo(caller);
	C_sorted = palloc(sizeof(double) * k * d);
	sizes_sorted = palloc(sizeof(int64) * k);
	ci_sorted = palloc(sizeof(double) * k);
	for (j = 0; j < k; j++)
	{
		memcpy(C_sorted + j * d, C + perm[j] * d, sizeof(double) * d);
		sizes_sorted[j] = sizes[perm[j]];
		ci_sorted[j] = ci[perm[j]];
	}
	memset(&env, 0, sizeof(env));
	ecore_scaler_inverse_transform(&s, C_sorted, k, orig, &env);
	values[0] = PointerGetDatum(names);
	values[1] = CStringGetTextDatum(ecore_scale_method_name(method));
	values[2] = PointerGetDatum(float8_array(s.scale, d));
	values[3] = PointerGetDatum(float8_array(s.offset, d));
	values[4] = PointerGetDatum(float8_matrix(orig, k, d));
	values[5] = PointerGetDatum(float8_matrix(C_sorted, k, d));
	values[6] = PointerGetDatum(int8_array(sizes_sorted, k));
	values[7] = Float8GetDatum(inertia);
	values[8] = Int32GetDatum(it);
	values[9] = BoolGetDatum(converged);
	values[10] = Int64GetDatum(n);
	values[11] = PointerGetDatum(float8_array(ci_sorted, k));
	result = heap_form_tuple(tupdesc, values, nulls);
	AtEOXact_GUC(true, nestlevel);
	SPI_finish();
	PG_RETURN_DATUM(HeapTupleGetDatum(result));
}
