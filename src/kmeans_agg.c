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
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "engage.h"
#include "split.h"
#include "core/elbow_agg.h"
#include "core/kmeans.h"
#include "core/kmeans_step.h"
#include "core/knee.h"
#include "core/scale.h"
#include "core/xsum.h"

/* Bounds of the driver's options */
#define FIT_MAX_N_INIT		1000
#define FIT_MAX_ITER		100000
#define FIT_MAX_SAMPLE		10000000

static void robust_passes_sql(const char *schema, const char *features,
							  const char *from, int d, int64 n,
							  ecore_scaler *s, const char *caller,
							  TimestampTz start);

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

/*
 * The two states of a combine function, each checked by check (aggregate:
 * its name, for the error): true with *a (writable: in place inside an
 * aggregate) and *b when both are there; false when one is NULL, the
 * result then being combine_passthrough's
 */
static bool
combine_args(FunctionCallInfo fcinfo, int (*check) (const int64_t *st, size_t nslots),
			 const char *aggregate, ArrayType **a, size_t *na, ArrayType **b, size_t *nb)
{
	if (PG_ARGISNULL(1))
		return false;
	*b = state_arg(fcinfo, 1, false, nb);
	if (check(STATE_SLOTS(*b), *nb) != ECORE_OK)
		state_invalid(aggregate);
	if (PG_ARGISNULL(0))
		return false;
	*a = state_arg(fcinfo, 0, true, na);
	if (check(STATE_SLOTS(*a), *na) != ECORE_OK)
		state_invalid(aggregate);
	return true;
}

/* The result of a combine function with a NULL state: the other one */
static Datum
combine_passthrough(FunctionCallInfo fcinfo)
{
	if (!PG_ARGISNULL(1))
		PG_RETURN_DATUM(PG_GETARG_DATUM(1));
	if (!PG_ARGISNULL(0))
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	PG_RETURN_NULL();
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
	if (rc == ECORE_ENEGATIVE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_ARGUMENT_FOR_LOG),
				 errmsg("feature %zu (%g) is negative", col + 1, x[col]),
				 errdetail("The log normalization takes log(1 + x) of every feature, which needs x >= 0."),
				 errhint("Leave such points out, or use another normalization.")));
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

	if (ecore_scale_method_parse_all(name, &m) != ECORE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown normalization \"%s\"", name),
				 errhint("Use \"zscore\", \"minmax\", \"log\", \"robust\" or \"none\".")));
	return m;
}

/*
 * Does the split K-means take this normalization: is its scaler computed
 * without gathering the points (by scaling_agg's combinable state; robust
 * by the quantile passes of quantile_pass_agg)?  Every normalization.
 */
bool
engage_split_normalization(ecore_scale_method method)
{
	return method == ECORE_SCALE_ZSCORE || method == ECORE_SCALE_MINMAX ||
		method == ECORE_SCALE_LOG || method == ECORE_SCALE_ROBUST ||
		method == ECORE_SCALE_NONE;
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
		if (method == ECORE_SCALE_ROBUST)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("scaling_agg cannot compute the robust scaler"),
					 errdetail("Its median and quartiles need passes over the points, not one aggregate."),
					 errhint("kmeans_fit_sampled and elbow_fit_sampled compute it by passes of quantile_pass_agg.")));
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
		state = state_in_aggcontext(fcinfo, ecore_scaleagg_slots((size_t) d, method));
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

	if (!combine_args(fcinfo, ecore_scaleagg_check, "scaling_agg", &a, &na, &b, &nb))
		return combine_passthrough(fcinfo);
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
	values[2] = PointerGetDatum(engage_float8_array(s.mean, d));
	values[3] = PointerGetDatum(engage_float8_array(s.var, d));
	values[4] = PointerGetDatum(engage_float8_array(s.data_min, d));
	values[5] = PointerGetDatum(engage_float8_array(s.data_max, d));
	values[6] = PointerGetDatum(engage_float8_array(s.scale, d));
	values[7] = PointerGetDatum(engage_float8_array(s.offset, d));
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
	double		inertia;		/* the model's inertia (NaN when null) */
	int64		n_points;		/* its n_points (-1 when null) */
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

/* The model argument argno of a step, parsed (cached in fn_extra) */
static StepModel *
step_model(FunctionCallInfo fcinfo, int argno)
{
	StepModel  *m = (StepModel *) fcinfo->flinfo->fn_extra;
	struct varlena *raw;
	HeapTupleHeader model;
	MemoryContext cxt = fcinfo->flinfo->fn_mcxt;
	bool		isnull;
	Datum		method;
	int			dims[2];
	Size		len;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model must not be null")));
	raw = PG_DETOAST_DATUM(PG_GETARG_DATUM(argno));
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
		ecore_scale_method_parse_all(TextDatumGetCString(method), &m->scaler.method) != ECORE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the model's normalization is not \"zscore\", \"minmax\", \"log\", \"robust\" or \"none\"")));
	m->scaler.d = m->d;
	m->scaler.mean = m->scaler.var = m->scaler.data_min = m->scaler.data_max =
		m->scaler.scale;
	m->fingerprint = scaler_fingerprint(&m->scaler);
	{
		Datum		v = GetAttributeByName(model, "inertia", &isnull);

		m->inertia = isnull ? NAN : DatumGetFloat8(v);
		v = GetAttributeByName(model, "n_points", &isnull);
		m->n_points = isnull ? -1 : DatumGetInt64(v);
	}
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
	StepModel  *m = step_model(fcinfo, 1);
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
		feature_error(rc, x, rc == ECORE_ENEGATIVE ? env.error_col : col, "As points");
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

	if (!combine_args(fcinfo, ecore_kstep_check, "kmeans_step_agg", &a, &na, &b, &nb))
		return combine_passthrough(fcinfo);
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
	values[0] = PointerGetDatum(engage_float8_matrix(out.next, k, d));
	values[1] = PointerGetDatum(engage_int8_array((int64 *) out.sizes, k));
	values[2] = PointerGetDatum(engage_float8_array(out.cluster_inertia, k));
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
 * sample_cutoff(value double precision, m integer): the m-th smallest
 * ---------------------------------------------------------------------
 */

/* The first room of a state (grown by doubling up to m) */
#define CUTOFF_FIRST_ROOM 64

/* A copy of the state a with room for `room` values, in the agg context */
static ArrayType *
cutoff_grow(FunctionCallInfo fcinfo, ArrayType *a, size_t nslots, size_t room)
{
	ArrayType  *b = state_in_aggcontext(fcinfo, ECORE_CUTOFF_HEADER + room);

	memcpy(STATE_SLOTS(b), STATE_SLOTS(a), nslots * sizeof(int64));
	return b;
}

/*
 * Transition: a value (NULL skipped; NaN refused) into the m smallest; m
 * must be the same on every row
 */
PG_FUNCTION_INFO_V1(engage_sample_cutoff_accum);
Datum
engage_sample_cutoff_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	size_t		nslots;
	int64		m;
	double		x;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("m must not be null")));
	m = PG_GETARG_INT32(2);
	if (m < 1 || m > ECORE_CUTOFF_MAX_M)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("m must be between 1 and %d, not %lld", ECORE_CUTOFF_MAX_M,
						(long long) m)));
	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	x = PG_GETARG_FLOAT8(1);
	if (isnan(x))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("value must not be NaN")));
	if (PG_ARGISNULL(0))
	{
		nslots = ECORE_CUTOFF_HEADER + Min(m, CUTOFF_FIRST_ROOM);
		state = state_in_aggcontext(fcinfo, nslots);
		ecore_cutoff_init(STATE_SLOTS(state), m);
	}
	else
	{
		state = state_arg(fcinfo, 0, true, &nslots);
		if (nslots < ECORE_CUTOFF_HEADER || STATE_SLOTS(state)[0] != ECORE_CUTOFF_MAGIC)
			state_invalid("sample_cutoff");
		if (ecore_cutoff_m(STATE_SLOTS(state)) != m)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("m must be the same on every row")));
	}
	if (ecore_cutoff_add(STATE_SLOTS(state), nslots, x))
	{
		size_t		room = Min((size_t) m, 2 * (nslots - ECORE_CUTOFF_HEADER));

		state = cutoff_grow(fcinfo, state, nslots, room);
		nslots = ECORE_CUTOFF_HEADER + room;
		(void) ecore_cutoff_add(STATE_SLOTS(state), nslots, x);
	}
	PG_RETURN_ARRAYTYPE_P(state);
}

/* Combine two partial states of sample_cutoff */
PG_FUNCTION_INFO_V1(engage_sample_cutoff_combine);
Datum
engage_sample_cutoff_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *a,
			   *b;
	size_t		na,
				nb,
				want;

	if (!combine_args(fcinfo, ecore_cutoff_check, "sample_cutoff", &a, &na, &b, &nb))
		return combine_passthrough(fcinfo);
	if (ecore_cutoff_m(STATE_SLOTS(a)) != ecore_cutoff_m(STATE_SLOTS(b)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine sample_cutoff states of different m")));
	want = (size_t) Min(ecore_cutoff_m(STATE_SLOTS(a)),
						ecore_cutoff_count(STATE_SLOTS(a)) + ecore_cutoff_count(STATE_SLOTS(b)));
	if (want > na - ECORE_CUTOFF_HEADER)
	{
		a = cutoff_grow(fcinfo, a, na, want);
		na = ECORE_CUTOFF_HEADER + want;
	}
	if (ecore_cutoff_merge(STATE_SLOTS(a), na, STATE_SLOTS(b)) != ECORE_OK)
		state_invalid("sample_cutoff");
	PG_RETURN_ARRAYTYPE_P(a);
}

/* Final: the m-th smallest value, NULL when fewer than m values */
PG_FUNCTION_INFO_V1(engage_sample_cutoff_final);
Datum
engage_sample_cutoff_final(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	size_t		nslots;
	double		x;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = state_arg(fcinfo, 0, false, &nslots);
	if (ecore_cutoff_check(STATE_SLOTS(state), nslots) != ECORE_OK)
		state_invalid("sample_cutoff");
	if (!ecore_cutoff_final(STATE_SLOTS(state), &x))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(x);
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

/*
 * Run a one-row read-only query with arguments (an aggregate without
 * GROUP BY); its first value or NULL.  No row limit: the executor runs a
 * query with one in a single process, and these aggregates are meant to
 * run in parallel workers.
 */
static HeapTupleHeader
fit_query_row(const char *sql, int nargs, Oid *types, Datum *values)
{
	int			rc;
	bool		isnull;
	Datum		v;

	rc = SPI_execute_with_args(sql, nargs, types, values, NULL, true, 0);
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

/* ---------------------------------------------------------------------
 * kmeans_steps_agg(models engage.kmeans_model[], features double precision[])
 * ---------------------------------------------------------------------
 */

/*
 * The models of a multi-model step, parsed, with a copy of the array's
 * bytes.  Kept in a small cache of the backend (not fn_extra: Citus's
 * worker_partial_agg calls the transition with a new FmgrInfo per row),
 * each entry in its own memory context under TopMemoryContext.
 */
typedef struct StepsModels
{
	MemoryContext cxt;
	Size		len;
	char	   *bytes;
	int			M;
	int			d;
	int		   *ks;
	const double **C;
	ecore_scaler scaler;
	uint64_t	fingerprint;
} StepsModels;

#define STEPS_CACHE 2
static StepsModels *steps_cache[STEPS_CACHE];

/* Parse a kmeans_model[] of models sharing a normalization (into cxt) */
static StepsModels *
steps_parse(struct varlena *raw, MemoryContext cxt)
{
	ArrayType  *arr = (ArrayType *) raw;
	StepsModels *sm;
	Datum	   *elems;
	bool	   *enulls;
	int			nelems,
				j,
				dims[2];
	int16		typlen;
	bool		typbyval;
	char		typalign;
	MemoryContext old = MemoryContextSwitchTo(cxt);

	if (ARR_NDIM(arr) != 1 || !type_is_rowtype(ARR_ELEMTYPE(arr)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("models must be a one-dimensional array of engage.kmeans_model")));
	get_typlenbyvalalign(ARR_ELEMTYPE(arr), &typlen, &typbyval, &typalign);
	deconstruct_array(arr, ARR_ELEMTYPE(arr), typlen, typbyval, typalign,
					  &elems, &enulls, &nelems);
	if (nelems < 1 || nelems > ECORE_KSTEPS_MAX_MODELS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("models must hold between 1 and %d models, not %d",
						ECORE_KSTEPS_MAX_MODELS, nelems)));
	sm = palloc0(sizeof(StepsModels));
	sm->M = nelems;
	sm->ks = palloc(sizeof(int) * nelems);
	sm->C = palloc(sizeof(double *) * nelems);
	for (j = 0; j < nelems; j++)
	{
		HeapTupleHeader model;
		double	   *scale,
				   *shift;
		ecore_scale_method method;
		bool		isnull;
		Datum		mname;

		if (enulls[j])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("model %d of models is null", j + 1)));
		model = DatumGetHeapTupleHeader(elems[j]);
		scale = model_array(model, "scale", 1, dims, DBL_MAX, cxt);
		if (dims[0] < 1 || dims[0] > ECORE_KSTEP_MAX_D)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the model's scale and shift must have the same length, between 1 and %d",
							ECORE_KSTEP_MAX_D)));
		if (j == 0)
			sm->d = dims[0];
		shift = model_array(model, "shift", 1, dims, DBL_MAX, cxt);
		mname = GetAttributeByName(model, "normalization", &isnull);
		if (isnull ||
			ecore_scale_method_parse_all(TextDatumGetCString(mname), &method) != ECORE_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the model's normalization is not \"zscore\", \"minmax\", \"log\", \"robust\" or \"none\"")));
		if (j == 0)
		{
			sm->scaler.method = method;
			sm->scaler.d = sm->d;
			sm->scaler.scale = scale;
			sm->scaler.offset = shift;
		}
		else if (dims[0] != sm->d || method != sm->scaler.method ||
				 memcmp(scale, sm->scaler.scale, sizeof(double) * sm->d) != 0 ||
				 memcmp(shift, sm->scaler.offset, sizeof(double) * sm->d) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the models must have the same normalization, scale and shift"),
					 errdetail("Model %d differs from model 1.", j + 1)));
		if (dims[0] != sm->d)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the model's scale and shift must have the same length, between 1 and %d",
							ECORE_KSTEP_MAX_D)));
		sm->C[j] = model_array(model, "centroids_normalized", 2, dims,
							   ECORE_MAX_ABS_CENTROID, cxt);
		sm->ks[j] = dims[0];
		if (dims[1] != sm->d || dims[0] < 1 || dims[0] > ECORE_KSTEP_MAX_K)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the model's centroids must be k x %d with k between 1 and %d",
							sm->d, ECORE_KSTEP_MAX_K)));
	}
	if (ecore_ksteps_slots(sm->M, sm->ks, (size_t) sm->d) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the models have too many clusters for one kmeans_steps_agg"),
				 errhint("Split them into several aggregates.")));
	sm->scaler.mean = sm->scaler.var = sm->scaler.data_min = sm->scaler.data_max =
		sm->scaler.scale;
	sm->fingerprint = scaler_fingerprint(&sm->scaler);
	MemoryContextSwitchTo(old);
	return sm;
}

/*
 * The centres of the indexes (kmeans_steps_agg's third argument) of the
 * models of the last row: a copy of the array's bytes, the values, and
 * per model a pointer into them.  One entry, under TopMemoryContext.
 */
typedef struct StepsCentres
{
	MemoryContext cxt;
	Size		len;
	char	   *bytes;
	const StepsModels *sm;		/* the models the pointers are for */
	const double **R;
} StepsCentres;

static StepsCentres *steps_centres_cache;

/*
 * The centres argument argno for the models sm: NULL when absent or NULL
 * (the centroids); else one pointer per model into a (sum of k) x d
 * array of finite values, model after model.
 */
static const double *const *
steps_centres(FunctionCallInfo fcinfo, int argno, const StepsModels *sm)
{
	struct varlena *raw;
	ArrayType  *arr;
	StepsCentres *sc = steps_centres_cache;
	MemoryContext cxt,
				old;
	double	   *v;
	int			rows = 0,
				j,
				i,
				n;

	if (PG_NARGS() <= argno || PG_ARGISNULL(argno))
		return NULL;
	raw = PG_DETOAST_DATUM(PG_GETARG_DATUM(argno));
	if (sc != NULL && sc->sm == sm && sc->len == VARSIZE(raw) &&
		memcmp(sc->bytes, raw, sc->len) == 0)
		return sc->R;
	arr = (ArrayType *) raw;
	for (j = 0; j < sm->M; j++)
		rows += sm->ks[j];
	if (ARR_ELEMTYPE(arr) != FLOAT8OID || ARR_NDIM(arr) != 2 ||
		ARR_DIMS(arr)[0] != rows || ARR_DIMS(arr)[1] != sm->d ||
		(ARR_HASNULL(arr) && array_contains_nulls(arr)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("centres must be a %d x %d double precision array without nulls",
						rows, sm->d),
				 errdetail("One row per cluster of the models, model after model.")));
	n = rows * sm->d;
	v = (double *) ARR_DATA_PTR(arr);
	for (i = 0; i < n; i++)
		if (!isfinite(v[i]) || fabs(v[i]) > ECORE_MAX_ABS_CENTROID)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("centres has an invalid element %g", v[i]),
					 errdetail("The centres must be finite and at most %g in magnitude.",
							   ECORE_MAX_ABS_CENTROID)));
	if (sc != NULL)
		MemoryContextDelete(sc->cxt);
	steps_centres_cache = NULL;
	cxt = AllocSetContextCreate(TopMemoryContext, "engage kmeans_steps_agg centres",
								ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	sc = palloc0(sizeof(StepsCentres));
	sc->cxt = cxt;
	sc->len = VARSIZE(raw);
	sc->bytes = palloc(sc->len);
	memcpy(sc->bytes, raw, sc->len);
	sc->sm = sm;
	sc->R = palloc(sizeof(double *) * sm->M);
	v = (double *) ARR_DATA_PTR((ArrayType *) sc->bytes);
	for (j = 0; j < sm->M; j++)
	{
		sc->R[j] = v;
		v += (Size) sm->ks[j] * sm->d;
	}
	MemoryContextSwitchTo(old);
	steps_centres_cache = sc;
	return sc->R;
}

/* The models argument argno, parsed (from the cache when seen before) */
static StepsModels *
steps_models(FunctionCallInfo fcinfo, int argno)
{
	struct varlena *raw;
	Size		len;
	StepsModels *sm;
	MemoryContext cxt;
	int			i;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("models must not be null")));
	raw = PG_DETOAST_DATUM(PG_GETARG_DATUM(argno));
	len = VARSIZE(raw);
	for (i = 0; i < STEPS_CACHE; i++)
	{
		sm = steps_cache[i];
		if (sm != NULL && sm->len == len && memcmp(sm->bytes, raw, len) == 0)
		{
			if (i > 0)
			{
				steps_cache[i] = steps_cache[0];
				steps_cache[0] = sm;
			}
			return sm;
		}
	}
	/* parse under the current context; kept only once parsed */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "engage kmeans_steps_agg models",
								ALLOCSET_SMALL_SIZES);
	sm = steps_parse(raw, cxt);
	sm->cxt = cxt;
	sm->bytes = MemoryContextAlloc(cxt, len);
	memcpy(sm->bytes, raw, len);
	sm->len = len;
	MemoryContextSetParent(cxt, TopMemoryContext);
	if (steps_cache[STEPS_CACHE - 1] != NULL)
	{
		/* the centres' pointers were laid out for these models */
		if (steps_centres_cache != NULL &&
			steps_centres_cache->sm == steps_cache[STEPS_CACHE - 1])
			steps_centres_cache->sm = NULL;
		MemoryContextDelete(steps_cache[STEPS_CACHE - 1]->cxt);
	}
	for (i = STEPS_CACHE - 1; i > 0; i--)
		steps_cache[i] = steps_cache[i - 1];
	steps_cache[0] = sm;
	return sm;
}

/*
 * Transition: the point, normalised with the models' scale and shift as
 * kmeans_predict normalises it, added to every model's step.  Rows with
 * NULL features are skipped.
 */
PG_FUNCTION_INFO_V1(engage_kmeans_steps_accum);
Datum
engage_kmeans_steps_accum(PG_FUNCTION_ARGS)
{
	StepsModels *sm = steps_models(fcinfo, 1);
	const double *const *R = steps_centres(fcinfo, 3, sm);
	ArrayType  *state;
	int64_t    *st;
	const double *x;
	double		z[ECORE_KSTEP_MAX_D];
	size_t		nslots,
				col;
	int			d = sm->d,
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
		state = state_in_aggcontext(fcinfo, ecore_ksteps_slots(sm->M, sm->ks, (size_t) d));
		ecore_ksteps_init(STATE_SLOTS(state), sm->M, sm->ks, (size_t) d, sm->C,
						  R, sm->fingerprint);
	}
	else
	{
		state = state_arg(fcinfo, 0, true, &nslots);
		st = STATE_SLOTS(state);
		if (nslots != ecore_ksteps_slots(sm->M, sm->ks, (size_t) d) ||
			st[0] != ECORE_KSTEPS_MAGIC || ecore_ksteps_d(st) != (size_t) d ||
			ecore_ksteps_fingerprint(st) != sm->fingerprint ||
			!ecore_ksteps_same_models(st, sm->M, sm->ks, sm->C, R))
		{
			if (ecore_ksteps_check(st, nslots) != ECORE_OK)
				state_invalid("kmeans_steps_agg");
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the models and centres must be the same on every row of a group")));
		}
	}
	st = STATE_SLOTS(state);
	memset(&env, 0, sizeof(env));
	rc = ecore_check_row(x, (size_t) d, INFINITY, &col);
	if (rc == ECORE_OK)
		rc = ecore_scaler_transform(&sm->scaler, x, 1, z, &env);
	if (rc != ECORE_OK)
		feature_error(rc, x, rc == ECORE_ENEGATIVE ? env.error_col : col, "As points");
	rc = ecore_check_row(z, (size_t) d, ECORE_MAX_ABS, &col);
	if (rc != ECORE_OK)
		feature_error(rc, z, col, "Normalized");
	ecore_ksteps_add(st, z);
	PG_RETURN_ARRAYTYPE_P(state);
}

/* Combine two partial states of kmeans_steps_agg */
PG_FUNCTION_INFO_V1(engage_kmeans_steps_combine);
Datum
engage_kmeans_steps_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *a,
			   *b;
	size_t		na,
				nb;

	if (!combine_args(fcinfo, ecore_ksteps_check, "kmeans_steps_agg", &a, &na, &b, &nb))
		return combine_passthrough(fcinfo);
	if (ecore_ksteps_merge(STATE_SLOTS(a), STATE_SLOTS(b)) != ECORE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine kmeans_steps_agg states of different models")));
	PG_RETURN_ARRAYTYPE_P(a);
}

/*
 * Final: an engage.kmeans_model_step[] with one element per model, in the
 * models' order (model: 1..M; the step as kmeans_step_agg's, the
 * simplified silhouette of the model's centroids, NULL for k = 1, and the
 * Davies-Bouldin and Calinski-Harabasz indexes of the assignment with the
 * centres, NULL unless 2 <= clusters with points < points).  NULL
 * without rows.
 */
PG_FUNCTION_INFO_V1(engage_kmeans_steps_final);
Datum
engage_kmeans_steps_final(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	int64_t    *st,
			   *scratch;
	size_t		nslots;
	int			M,
				d,
				j,
				kmax = 1,
				rc;
	Oid			arrtype,
				elemtype;
	TupleDesc	tupdesc;
	Datum	   *elems;
	int16		typlen;
	bool		typbyval;
	char		typalign;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = state_arg(fcinfo, 0, false, &nslots);
	st = STATE_SLOTS(state);
	if (ecore_ksteps_check(st, nslots) != ECORE_OK)
		state_invalid("kmeans_steps_agg");
	M = ecore_ksteps_models(st);
	d = (int) ecore_ksteps_d(st);
	for (j = 0; j < M; j++)
		kmax = Max(kmax, ecore_ksteps_k(st, j));
	arrtype = get_func_rettype(fcinfo->flinfo->fn_oid);
	elemtype = get_element_type(arrtype);
	if (!OidIsValid(elemtype))
		elog(ERROR, "return type of kmeans_steps_final must be an array");
	tupdesc = BlessTupleDesc(lookup_rowtype_tupdesc_copy(elemtype, -1));
	if (tupdesc->natts != 12)
		elog(ERROR, "unexpected engage.kmeans_model_step type");
	scratch = palloc(ecore_kstep_slots(kmax, (size_t) d) * sizeof(int64));
	elems = palloc(sizeof(Datum) * M);
	for (j = 0; j < M; j++)
	{
		int			k = ecore_ksteps_k(st, j);
		ecore_kstep_out out;
		double		sil;
		Datum		values[12];
		bool		nulls[12] = {false};

		out.next = palloc(sizeof(double) * k * d);
		out.sizes = palloc(sizeof(int64_t) * k);
		out.cluster_inertia = palloc(sizeof(double) * k);
		rc = ecore_ksteps_final(st, j, scratch, &out, &sil);
		if (rc != ECORE_OK)
			sum_out_of_range("kmeans_steps_agg");
		values[0] = Int32GetDatum(j + 1);
		values[1] = Int32GetDatum(k);
		values[2] = PointerGetDatum(engage_float8_matrix(out.next, k, d));
		values[3] = PointerGetDatum(engage_int8_array((int64 *) out.sizes, k));
		values[4] = PointerGetDatum(engage_float8_array(out.cluster_inertia, k));
		values[5] = Float8GetDatum(out.inertia);
		if (isnan(sil))
			nulls[6] = true;
		else
			values[6] = Float8GetDatum(sil);
		values[7] = Int64GetDatum(out.n);
		values[8] = Int32GetDatum(out.empty);
		values[9] = BoolGetDatum(out.fixed_point != 0);
		values[10] = Float8GetDatum(out.davies_bouldin);
		nulls[10] = isnan(out.davies_bouldin);
		values[11] = Float8GetDatum(out.calinski_harabasz);
		nulls[11] = isnan(out.calinski_harabasz);
		elems[j] = HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
	}
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, M, elemtype, typlen, typbyval, typalign));
}

/* ---------------------------------------------------------------------
 * quantile_pass_agg(targets bigint[], features double precision[]): one
 * pass of the exact quantiles of the robust scaler (kmeans_step.h)
 * ---------------------------------------------------------------------
 */

/* The targets argument argno: 3 T slots, T in 1..ECORE_QPASS_MAX_TARGETS */
static const int64 *
qpass_targets_arg(FunctionCallInfo fcinfo, int argno, int *T)
{
	ArrayType  *a;
	int			n;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("targets must not be null")));
	a = PG_GETARG_ARRAYTYPE_P(argno);
	n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
	if (ARR_NDIM(a) != 1 || ARR_HASNULL(a) || n % 3 != 0 || n < 3 ||
		n > 3 * ECORE_QPASS_MAX_TARGETS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("targets must be a one-dimensional bigint array of 3 to %d elements, a multiple of 3, without nulls",
						3 * ECORE_QPASS_MAX_TARGETS)));
	*T = n / 3;
	return (const int64 *) ARR_DATA_PTR(a);
}

/*
 * Transition: the point counted in each target's histogram.  Rows with
 * NULL features are skipped; the features must be finite and at most
 * 1e100 in magnitude.
 */
PG_FUNCTION_INFO_V1(engage_quantile_pass_accum);
Datum
engage_quantile_pass_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	int64_t    *st;
	const int64 *targets;
	const double *x;
	size_t		nslots,
				col;
	int			T,
				d = 0,
				rc;

	if (PG_ARGISNULL(2))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	targets = qpass_targets_arg(fcinfo, 1, &T);
	if (PG_ARGISNULL(0))
	{
		x = features_arg(fcinfo, 2, &d);
		state = state_in_aggcontext(fcinfo, ecore_qpass_slots(T));
		if (ecore_qpass_init(STATE_SLOTS(state), (size_t) d, T, (const int64_t *) targets) != ECORE_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid targets"),
					 errdetail("Each target is a feature (0 to %d), a number of bits (0, 8, .., 56) and a prefix of that many bits.",
							   d - 1)));
	}
	else
	{
		state = state_arg(fcinfo, 0, true, &nslots);
		st = STATE_SLOTS(state);
		/*
		 * the header only, per row (a state of these targets: adding to it
		 * stays within it); the whole state when it is not
		 */
		if (!ecore_qpass_header_ok(st, nslots, T, (const int64_t *) targets))
		{
			if (ecore_qpass_check(st, nslots) != ECORE_OK)
				state_invalid("quantile_pass_agg");
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the targets must be the same on every row of a group")));
		}
		d = (int) ecore_qpass_d(st);
		x = features_arg(fcinfo, 2, &d);
	}
	rc = ecore_check_row(x, (size_t) d, ECORE_MAX_ABS, &col);
	if (rc != ECORE_OK)
		feature_error(rc, x, col, "As points");
	ecore_qpass_add(STATE_SLOTS(state), x);
	PG_RETURN_ARRAYTYPE_P(state);
}

/* Combine two partial states of quantile_pass_agg */
PG_FUNCTION_INFO_V1(engage_quantile_pass_combine);
Datum
engage_quantile_pass_combine(PG_FUNCTION_ARGS)
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
	if (ecore_qpass_check(STATE_SLOTS(b), nb) != ECORE_OK)
		state_invalid("quantile_pass_agg");
	if (PG_ARGISNULL(0))
		PG_RETURN_DATUM(PG_GETARG_DATUM(1));
	a = state_arg(fcinfo, 0, true, &na);
	if (ecore_qpass_check(STATE_SLOTS(a), na) != ECORE_OK)
		state_invalid("quantile_pass_agg");
	if (ecore_qpass_merge(STATE_SLOTS(a), STATE_SLOTS(b)) != ECORE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine quantile_pass_agg states of different targets")));
	PG_RETURN_ARRAYTYPE_P(a);
}

/*
 * Final: the pass's result, compact (its non-empty buckets: kmeans_step.h,
 * ecore_qpass_result).  NULL without rows.
 */
PG_FUNCTION_INFO_V1(engage_quantile_pass_final);
Datum
engage_quantile_pass_final(PG_FUNCTION_ARGS)
{
	ArrayType  *state,
			   *res;
	size_t		nslots;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = state_arg(fcinfo, 0, false, &nslots);
	if (ecore_qpass_check(STATE_SLOTS(state), nslots) != ECORE_OK)
		state_invalid("quantile_pass_agg");
	res = state_new(ecore_qpass_result_slots(STATE_SLOTS(state)));
	ecore_qpass_result(STATE_SLOTS(state), STATE_SLOTS(res));
	PG_RETURN_ARRAYTYPE_P(res);
}

/*
 * The robust scaler (s->scale and s->offset, d each) of the n points of
 * the points query (features expression, FROM clause) by passes of
 * quantile_pass_agg: the same bits as ecore_qres_memory on the points.
 */
static void
robust_passes_sql(const char *schema, const char *features, const char *from,
				  int d, int64 n, ecore_scaler *s, const char *caller,
				  TimestampTz start)
{
	ecore_qres	q;
	int64_t    *targets = palloc(sizeof(int64_t) * 3 * ECORE_QPASS_MAX_TARGETS),
			   *st = palloc(sizeof(int64_t) * ecore_qpass_slots(6 * d));
	StringInfoData sql;
	int			T;

	ecore_qres_init(&q, palloc(ecore_qres_bytes((size_t) d)), (size_t) d, n);
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s.quantile_pass_agg($1, %s) FROM %s", schema, features, from);
	while ((T = ecore_qres_targets(&q, targets)) > 0)
	{
		Oid			types[1] = {INT8ARRAYOID};
		Datum		args[1];
		Datum		v;
		bool		isnull;
		ArrayType  *a;
		int			rc,
					T2;

		args[0] = PointerGetDatum(engage_int8_array((const int64 *) targets, 3 * T));
		rc = SPI_execute_with_args(sql.data, 1, types, args, NULL, true, 0);
		if (rc != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "unexpected result of a quantile pass of %s", caller);
		v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the points query returned no rows on a quantile pass of %s", caller)));
		a = DatumGetArrayTypeP(v);
		if (ARR_ELEMTYPE(a) != INT8OID || ARR_NDIM(a) != 1 || ARR_HASNULL(a) ||
			ARR_DIMS(a)[0] > (int) ecore_qpass_slots(6 * d) ||
			ecore_qpass_from_result((int64_t *) ARR_DATA_PTR(a), (size_t) ARR_DIMS(a)[0], st, &T2) != ECORE_OK ||
			!ecore_qpass_same_targets(st, T, targets))
			elog(ERROR, "unexpected result of a quantile pass of %s", caller);
		if (ecore_qres_update(&q, st) != ECORE_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the points changed between two passes of %s", caller),
					 errhint("Run it on points that do not change meanwhile, e.g. in a REPEATABLE READ transaction.")));
		SPI_freetuptable(SPI_tuptable);
	}
	ecore_qres_robust(&q, s);
	if (engage_progress)
		engage_progress_notice(start, "%s: the robust scaler's quantiles in %d passes",
							   caller, q.passes);
}

/* ---------------------------------------------------------------------
 * coreset_key(model, key, features, seed)
 * ---------------------------------------------------------------------
 */

/*
 * The elbow's coreset sampling key of a point (kmeans_step.h) for a k = 1
 * model: its centroid is mu, its inertia the total and its n_points n.
 * NULL when the features are NULL.
 */
PG_FUNCTION_INFO_V1(engage_coreset_key);
Datum
engage_coreset_key(PG_FUNCTION_ARGS)
{
	StepModel  *m;
	const double *x;
	double		z[ECORE_KSTEP_MAX_D],
				q;
	text	   *key;
	size_t		col;
	int			d,
				rc;
	ecore_env	env;

	if (PG_ARGISNULL(2))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("key must not be null")));
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("seed must not be null")));
	m = step_model(fcinfo, 0);
	if (m->k != 1 || !isfinite(m->inertia) || m->inertia < 0.0 || m->n_points < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("coreset_key needs a model of one cluster with its inertia and n_points"),
				 errdetail("Its centroid is the mean of the points, its inertia their squared distances to it, summed.")));
	d = m->d;
	x = features_arg(fcinfo, 2, &d);
	memset(&env, 0, sizeof(env));
	rc = ecore_check_row(x, (size_t) d, INFINITY, &col);
	if (rc == ECORE_OK)
		rc = ecore_scaler_transform(&m->scaler, x, 1, z, &env);
	if (rc != ECORE_OK)
		feature_error(rc, x, rc == ECORE_ENEGATIVE ? env.error_col : col, "As points");
	rc = ecore_check_row(z, (size_t) d, ECORE_MAX_ABS, &col);
	if (rc != ECORE_OK)
		feature_error(rc, z, col, "Normalized");
	q = ecore_coreset_measure(z, (size_t) d, m->C, m->inertia, m->n_points);
	key = PG_GETARG_TEXT_PP(1);
	PG_RETURN_FLOAT8(ecore_coreset_key(ecore_sample_hash((uint64_t) PG_GETARG_INT64(3),
														 VARDATA_ANY(key),
														 VARSIZE_ANY_EXHDR(key)), q));
}

/* ---------------------------------------------------------------------
 * elbow_fit_sampled(points, k_min, k_max, normalization, n_init, max_iter,
 *					 tol, seed, init, sample, in_memory)
 * ---------------------------------------------------------------------
 */

/* Rows read by a cursor per fetch */
#define ELBOW_FETCH 10000

/* The state of the elbow driver, shared by its callbacks */
typedef struct ElbowRun
{
	FitQuery	q;
	ecore_scaler s;
	int			d;
	int64		n;
	int64		seed;
	Oid			model_type;
	Oid			model_array_type;
	TupleDesc	model_desc;
	ArrayType  *names;
	char	   *steps_sql;
	char	   *steps_centres_sql;	/* with the centres of the indexes */
	char	   *step_sql;		/* kmeans_fit_sampled: kmeans_step_agg */
	MemoryContext callcxt;		/* reset by each callback */
	ecore_env  *env;
	TimestampTz start;
	/* in memory */
	bool		in_memory;
	ecore_elbow_memory mem;
} ElbowRun;

/* A kmeans_model datum of k normalised centroids C (others NULL) */
static Datum
elbow_model(ElbowRun *r, int k, const double *C, double inertia, int64 n)
{
	Datum		v[12];
	bool		nl[12] = {false};

	v[0] = PointerGetDatum(r->names);
	v[1] = CStringGetTextDatum(ecore_scale_method_name(r->s.method));
	v[2] = PointerGetDatum(engage_float8_array(r->s.scale, r->d));
	v[3] = PointerGetDatum(engage_float8_array(r->s.offset, r->d));
	nl[4] = true;
	v[5] = PointerGetDatum(engage_float8_matrix(C, k, r->d));
	nl[6] = nl[8] = nl[9] = nl[11] = true;
	if (isnan(inertia))
		nl[7] = true;
	else
		v[7] = Float8GetDatum(inertia);
	if (n < 0)
		nl[10] = true;
	else
		v[10] = Int64GetDatum(n);
	return HeapTupleGetDatum(heap_form_tuple(r->model_desc, v, nl));
}

/* ecore_elbow_agg_source.steps: one kmeans_steps_agg query */
static int
elbow_sql_steps(void *arg, int M, const int *ks, const double *const *C,
				const double *const *R, ecore_kstep_out *out, double *sil,
				int64_t *work)
{
	ElbowRun   *r = (ElbowRun *) arg;
	MemoryContext old;
	Datum	   *models;
	Datum		args[2];
	Oid			types[2];
	int			nargs = 1;
	Datum	   *elems;
	bool	   *enulls;
	int			nelems,
				j,
				rc;
	bool		isnull;
	ArrayType  *res;
	int16		typlen;
	bool		typbyval;
	char		typalign;

	(void) work;
	MemoryContextReset(r->callcxt);
	old = MemoryContextSwitchTo(r->callcxt);
	models = palloc(sizeof(Datum) * M);
	for (j = 0; j < M; j++)
		models[j] = elbow_model(r, ks[j], C[j], NAN, -1);
	get_typlenbyvalalign(r->model_type, &typlen, &typbyval, &typalign);
	args[0] = PointerGetDatum(construct_array(models, M, r->model_type, typlen,
											  typbyval, typalign));
	types[0] = r->model_array_type;
	if (R != NULL)
	{
		/* the centres, model after model: a (sum of k) x d matrix */
		int			rows = 0;
		double	   *all,
				   *p;

		for (j = 0; j < M; j++)
			rows += ks[j];
		p = all = palloc(sizeof(double) * rows * r->d);
		for (j = 0; j < M; j++)
		{
			memcpy(p, R[j] != NULL ? R[j] : C[j], sizeof(double) * ks[j] * r->d);
			p += ks[j] * r->d;
		}
		args[1] = PointerGetDatum(engage_float8_matrix(all, rows, r->d));
		types[1] = FLOAT8ARRAYOID;
		nargs = 2;
	}
	/* no row limit: that would keep the aggregate out of parallel workers */
	rc = SPI_execute_with_args(nargs == 2 ? r->steps_centres_sql : r->steps_sql,
							   nargs, types, args, NULL, true, 0);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "unexpected result of a step query of elbow_fit_sampled");
	res = DatumGetArrayTypeP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
										   1, &isnull));
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the points query returned no rows on a step of elbow_fit_sampled")));
	get_typlenbyvalalign(ARR_ELEMTYPE(res), &typlen, &typbyval, &typalign);
	deconstruct_array(res, ARR_ELEMTYPE(res), typlen, typbyval, typalign,
					  &elems, &enulls, &nelems);
	if (nelems != M)
		elog(ERROR, "unexpected result of a step query of elbow_fit_sampled");
	for (j = 0; j < M; j++)
	{
		HeapTupleHeader t = DatumGetHeapTupleHeader(elems[j]);
		Datum		v;

		composite_floats(t, "centroids_normalized", out[j].next, ks[j] * r->d);
		composite_int8s(t, "sizes", (int64 *) out[j].sizes, ks[j]);
		composite_floats(t, "cluster_inertia", out[j].cluster_inertia, ks[j]);
		out[j].inertia = DatumGetFloat8(GetAttributeByName(t, "inertia", &isnull));
		v = GetAttributeByName(t, "silhouette", &isnull);
		sil[j] = isnull ? NAN : DatumGetFloat8(v);
		out[j].n = DatumGetInt64(GetAttributeByName(t, "n_points", &isnull));
		out[j].empty = DatumGetInt32(GetAttributeByName(t, "empty_clusters", &isnull));
		out[j].fixed_point = DatumGetBool(GetAttributeByName(t, "converged", &isnull));
		out[j].relocated = 0;
		v = GetAttributeByName(t, "davies_bouldin", &isnull);
		out[j].davies_bouldin = isnull ? NAN : DatumGetFloat8(v);
		v = GetAttributeByName(t, "calinski_harabasz", &isnull);
		out[j].calinski_harabasz = isnull ? NAN : DatumGetFloat8(v);
	}
	SPI_freetuptable(SPI_tuptable);
	MemoryContextSwitchTo(old);
	return ECORE_OK;
}

/* Normalise one point x into z as the aggregates do (errors as theirs) */
static void
elbow_normalise(const ecore_scaler *s, const double *x, double *z)
{
	ecore_env	env;
	size_t		col;
	int			rc;

	memset(&env, 0, sizeof(env));
	rc = ecore_check_row(x, s->d, INFINITY, &col);
	if (rc == ECORE_OK)
		rc = ecore_scaler_transform(s, x, 1, z, &env);
	if (rc != ECORE_OK)
		feature_error(rc, x, rc == ECORE_ENEGATIVE ? env.error_col : col, "As points");
	rc = ecore_check_row(z, s->d, ECORE_MAX_ABS, &col);
	if (rc != ECORE_OK)
		feature_error(rc, z, col, "Normalized");
}

/* The features of column col of a fetched row into x (d), or false if NULL */
static bool
elbow_row_features(HeapTuple tup, TupleDesc desc, int col, int d, double *x)
{
	bool		isnull;
	Datum		v = SPI_getbinval(tup, desc, col, &isnull);
	ArrayType  *a;

	if (isnull)
		return false;
	a = DatumGetArrayTypeP(v);
	if (ARR_NDIM(a) != 1 || ARR_DIMS(a)[0] != d)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("features have %d elements, the points before them have %d",
						ARR_NDIM(a) == 1 ? ARR_DIMS(a)[0] : 0, d)));
	if (ARR_HASNULL(a) && array_contains_nulls(a))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("features must not contain nulls"),
				 errhint("Leave such points out, or replace the NULL with coalesce().")));
	memcpy(x, ARR_DATA_PTR(a), sizeof(double) * d);
	return true;
}

/*
 * The cutoff of the want smallest values of the expression key (SQL over
 * the points query's rows, whose features are not NULL; arguments $1..$n
 * of types/args, then $n+1 the count): sample_cutoff by one aggregate
 * that parallel workers and Citus shards compute in parts, so that the
 * sample query that follows reads only the rows of key <= cutoff (about
 * want rows, not want per shard).  false (no cutoff) when want is past
 * sample_cutoff's bound or fewer rows have a key.
 */
static bool
sample_cutoff_of(const FitQuery *q, const char *key, int nargs, Oid *types,
				 Datum *args, size_t want, double *cutoff)
{
	StringInfoData sql;
	Oid			t[4];
	Datum		v[4];
	int			rc,
				j;
	bool		isnull;
	Datum		d;

	if (want > ECORE_CUTOFF_MAX_M || nargs > 3)
		return false;
	for (j = 0; j < nargs; j++)
	{
		t[j] = types[j];
		v[j] = args[j];
	}
	t[nargs] = INT4OID;
	v[nargs] = Int32GetDatum((int32) want);
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s.sample_cutoff(%s, $%d) FROM %s WHERE %s IS NOT NULL",
					 q->schema, key, nargs + 1, q->from, q->features);
	rc = SPI_execute_with_args(sql.data, nargs + 1, t, v, NULL, true, 0);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "unexpected result of the sample cutoff query");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
		*cutoff = DatumGetFloat8(d);
	SPI_freetuptable(SPI_tuptable);
	return !isnull;
}

/*
 * Read the want first points of the points query in the order (order,
 * key text in C collation, features), or (key text, features) when order
 * is NULL, by a cursor, each normalised as the aggregates normalise it
 * into SZ: the samples of kmeans_fit_sampled (order: sample_hash) and
 * elbow_fit_sampled (order: coreset_key; with keys, each point's order
 * value into keys).  The query's arguments are args (nargs of types),
 * then want; with order, the rows are first cut at the want-th smallest
 * order value (sample_cutoff, as double precision: a monotone image of
 * the order) so that about want rows leave Citus's shards, the same first
 * ones.  The key text must not be NULL (checked where it is read: without
 * keys).  Returns the points read.
 */
static size_t
sample_rows(ElbowRun *r, const char *order, int nargs, Oid *types, Datum *args,
			size_t want, double *SZ, double *keys, const char *function)
{
	StringInfoData sql,
				cut;
	Portal		portal;
	Oid			t[5];
	Datum		v[5];
	int			n = nargs + 1,
				j;
	double		cutoff = 0.0;
	double	   *x = palloc(sizeof(double) * r->d);
	size_t		i = 0;

	Assert(nargs <= 3);
	for (j = 0; j < nargs; j++)
	{
		t[j] = types[j];
		v[j] = args[j];
	}
	t[nargs] = INT8OID;
	v[nargs] = Int64GetDatum((int64) want);
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s, %s FROM %s WHERE %s IS NOT NULL", r->q.features,
					 keys != NULL ? order : "p.k::text", r->q.from, r->q.features);
	if (order != NULL)
	{
		initStringInfo(&cut);
		appendStringInfo(&cut, "(%s)::double precision", order);
		if (sample_cutoff_of(&r->q, cut.data, nargs, types, args, want, &cutoff))
		{
			appendStringInfo(&sql, " AND %s <= $%d", cut.data, n + 1);
			t[n] = FLOAT8OID;
			v[n] = Float8GetDatum(cutoff);
			n++;
		}
		appendStringInfo(&sql, " ORDER BY %s,", order);
	}
	else
		appendStringInfoString(&sql, " ORDER BY");
	appendStringInfo(&sql, " p.k::text COLLATE \"C\", 1 LIMIT $%d", nargs + 1);
	portal = SPI_cursor_open_with_args(NULL, sql.data, n, t, v, NULL, true,
									   CURSOR_OPT_NO_SCROLL);
	for (;;)
	{
		uint64		row;

		SPI_cursor_fetch(portal, true, ELBOW_FETCH);
		if (SPI_processed == 0)
			break;
		for (row = 0; row < SPI_processed; row++)
		{
			HeapTuple	tup = SPI_tuptable->vals[row];
			bool		isnull;
			Datum		second;

			if (i >= want ||
				!elbow_row_features(tup, SPI_tuptable->tupdesc, 1, r->d, x))
				elog(ERROR, "unexpected sample point of %s", function);
			elbow_normalise(&r->s, x, SZ + i * r->d);
			second = SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull);
			if (keys != NULL)
				keys[i] = DatumGetFloat8(second);
			else if (isnull)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("key must not be null")));
			i++;
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	return i;
}

/*
 * ecore_elbow_agg_source.sample: the m + 1 points of smallest coreset key
 * (ORDER BY ... LIMIT, which Citus pushes down to its workers, after the
 * cutoff), or every point in key order (sample_rows).
 */
static int
elbow_sql_sample(void *arg, const double *mu, double total, int64_t n,
				 int sampled, size_t want, double *SZ, double *key,
				 size_t *got, void *iwork)
{
	ElbowRun   *r = (ElbowRun *) arg;
	Oid			types[2] = {r->model_type, INT8OID};
	Datum		args[2];
	MemoryContext old;

	(void) iwork;
	MemoryContextReset(r->callcxt);
	old = MemoryContextSwitchTo(r->callcxt);
	if (sampled)
	{
		args[0] = elbow_model(r, 1, mu, total, n);
		args[1] = Int64GetDatum(r->seed);
		*got = sample_rows(r, psprintf("%s.coreset_key($1, p.k::text, %s, $2)", r->q.schema,
									   r->q.features),
						   2, types, args, want, SZ, key, "elbow_fit_sampled");
	}
	else
		*got = sample_rows(r, NULL, 0, types, args, want, SZ, NULL, "elbow_fit_sampled");
	MemoryContextSwitchTo(old);
	return ECORE_OK;
}

/* ecore_elbow_agg_params.progress: a NOTICE with engage.progress on */
static void
elbow_agg_progress(void *arg, const char *stage, int value)
{
	ElbowRun   *r = (ElbowRun *) arg;

	engage_progress_notice(r->start, "elbow_fit_sampled: %s %d", stage, value);
}

/*
 * The points in memory of the split K-means, from the n points X (n x d,
 * in their units; keys[i] of keylens[i] bytes their keys' text): their
 * scaler from the exact sums (ecore_scaleagg: the bits of scaling_agg),
 * the normalised points (each checked as the aggregates check it), the
 * sample hashes of the keys for seed and the scaler's fingerprint, into s
 * (its arrays allocated) and mem, in the current memory context, after
 * checking the memory against engage.max_memory (held: the bytes the
 * caller holds).  Shared by kmeans_fit_sampled and elbow_fit_sampled in
 * memory and by run_analysis's store_user_clusters, so that the same
 * points give the same bits whoever read them.
 */
void
engage_split_memory(const double *X, Size n, int d, const char *const *keys,
					const size_t *keylens, ecore_scale_method method, int64 seed,
					ecore_env *env, Size held, ecore_scaler *s,
					ecore_elbow_memory *mem)
{
	int64_t    *st;
	double	   *Z;
	uint64_t   *h;
	size_t		col;
	Size		i;
	int			rc;

	/* robust: the counts by the state, the median and quartiles by passes */
	ecore_scale_method stats = method == ECORE_SCALE_ROBUST ? ECORE_SCALE_NONE : method;

	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the points query returned no rows"),
				 errhint("Check the query's WHERE clause and the table it reads.")));
	st = palloc(ecore_scaleagg_slots((size_t) d, stats) * sizeof(int64_t));
	ecore_scaleagg_init(st, (size_t) d, stats);
	for (i = 0; i < n; i++)
	{
		rc = ecore_scaleagg_add(st, X + i * d, &col);
		if (rc != ECORE_OK)
			feature_error(rc, X + i * d, col, "As points");
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	memset(s, 0, sizeof(*s));
	s->method = stats;
	s->d = d;
	s->mean = palloc(sizeof(double) * d);
	s->var = palloc(sizeof(double) * d);
	s->data_min = palloc(sizeof(double) * d);
	s->data_max = palloc(sizeof(double) * d);
	s->scale = palloc(sizeof(double) * d);
	s->offset = palloc(sizeof(double) * d);
	if (ecore_scaleagg_final(st, s) != ECORE_OK)
		sum_out_of_range("the split K-means");
	if (method == ECORE_SCALE_ROBUST)
	{
		/* the same passes as quantile_pass_agg's, over the points given */
		s->method = method;
		rc = ecore_qres_memory(X, n, (size_t) d, s, palloc(ecore_qres_bytes((size_t) d)),
							   palloc(sizeof(int64_t) * ecore_qpass_slots(6 * d)),
							   palloc(sizeof(int64_t) * 3 * ECORE_QPASS_MAX_TARGETS), env);
		if (rc != ECORE_OK)
			elog(ERROR, "the robust scaler of the split K-means failed: %s", ecore_strerror(rc));
	}
	engage_check_memory(held, n * (d * sizeof(double) + sizeof(uint64_t)));
	Z = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * n * d);
	for (i = 0; i < n; i++)
	{
		elbow_normalise(s, X + i * d, Z + i * d);
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	h = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint64_t) * n);
	for (i = 0; i < n; i++)
		h[i] = ecore_sample_hash((uint64_t) seed, keys[i], keylens[i]);
	memset(mem, 0, sizeof(*mem));
	mem->Z = Z;
	mem->X = X;
	mem->n = n;
	mem->d = (size_t) d;
	mem->hashes = h;
	mem->keys = keys;
	mem->keylens = keylens;
	mem->fingerprint = scaler_fingerprint(s);
	mem->env = env;
}

/*
 * Read every point into memory (in_memory): keys and features, then
 * engage_split_memory.
 */
static void
elbow_read_points(ElbowRun *r, ecore_scale_method method)
{
	StringInfoData sql;
	Portal		portal;
	Size		cap = 1024,
				n = 0;
	int			d = r->q.array_mode ? 0 : r->q.d;
	double	   *X = NULL;
	char	  **keys;
	size_t	   *lens;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s, p.k::text FROM %s", r->q.features, r->q.from);
	portal = SPI_cursor_open_with_args(NULL, sql.data, 0, NULL, NULL, NULL, true,
									   CURSOR_OPT_NO_SCROLL);
	keys = palloc(sizeof(char *) * cap);
	lens = palloc(sizeof(size_t) * cap);
	for (;;)
	{
		uint64		j;

		SPI_cursor_fetch(portal, true, ELBOW_FETCH);
		if (SPI_processed == 0)
			break;
		for (j = 0; j < SPI_processed; j++)
		{
			HeapTuple	tup = SPI_tuptable->vals[j];
			bool		isnull;
			Datum		kv;
			text	   *kt;
			double		xbuf[ECORE_KSTEP_MAX_D];

			if (d == 0)
			{
				/* array mode: the first non-NULL array sets d */
				Datum		v = SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull);
				ArrayType  *a;

				if (isnull)
					continue;
				a = DatumGetArrayTypeP(v);
				d = ARR_NDIM(a) == 1 ? ARR_DIMS(a)[0] : 0;
				if (d < 1 || d > ECORE_KSTEP_MAX_D)
					ereport(ERROR,
							(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
							 errmsg("features must have between 1 and %d elements, not %d",
									ECORE_KSTEP_MAX_D, d)));
			}
			if (!elbow_row_features(tup, SPI_tuptable->tupdesc, 1, d, xbuf))
				continue;
			kv = SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull);
			if (isnull)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("key must not be null")));
			if (X == NULL)
				X = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * cap * d);
			if (n == cap)
			{
				engage_check_memory(n * (d * 3 * sizeof(double) + 32), n * (d * 3 * sizeof(double) + 32));
				cap *= 2;
				X = repalloc_huge(X, sizeof(double) * cap * d);
				keys = repalloc_huge(keys, sizeof(char *) * cap);
				lens = repalloc_huge(lens, sizeof(size_t) * cap);
			}
			memcpy(X + n * d, xbuf, sizeof(double) * d);
			kt = DatumGetTextPP(kv);
			lens[n] = VARSIZE_ANY_EXHDR(kt);
			keys[n] = palloc(Max(lens[n], 1));
			memcpy(keys[n], VARDATA_ANY(kt), lens[n]);
			n++;
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	r->d = d;
	r->n = (int64) n;
	engage_split_memory(X, n, d, (const char *const *) keys, lens, method, r->seed,
						r->env, n * (d * 3 * sizeof(double) + 32), &r->s, &r->mem);
}

/*
 * Set up a run of the split K-means: its scratch memory context (a child
 * of the current one, made current and returned), the context of
 * its queries, its start, and the core's environment env (allocations in
 * scratch; the interrupt check that joins the core's threads)
 */
static MemoryContext
split_run_context(ElbowRun *r, ecore_env *env)
{
	MemoryContext scratch = AllocSetContextCreate(CurrentMemoryContext, "engage split K-means",
												  ALLOCSET_DEFAULT_SIZES);

	MemoryContextSwitchTo(scratch);
	r->start = GetCurrentTimestamp();
	r->callcxt = AllocSetContextCreate(scratch, "engage split K-means query",
									   ALLOCSET_DEFAULT_SIZES);
	memset(env, 0, sizeof(*env));
	env->alloc = fit_alloc;
	env->alloc_arg = scratch;
	env->check = engage_core_check;
	env->check_arg = env;
	r->env = env;
	return scratch;
}

/*
 * Begin a run of the split K-means (kmeans_fit_sampled, elbow_fit_sampled)
 * on the points query: its description and, for the aggregates (not in
 * memory), engage's kmeans_model types.  The caller is connected to SPI.
 */
static void
split_begin(ElbowRun *r, FunctionCallInfo fcinfo, const char *points)
{
	fit_query(points, fcinfo->flinfo->fn_oid, &r->q);
	if (r->in_memory)
		return;					/* no aggregate, no model */
	r->model_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
									CStringGetDatum("kmeans_model"),
									ObjectIdGetDatum(get_func_namespace(fcinfo->flinfo->fn_oid)));
	r->model_array_type = get_array_type(r->model_type);
	if (!OidIsValid(r->model_type) || !OidIsValid(r->model_array_type))
		elog(ERROR, "type kmeans_model of the split K-means not found");
	r->model_desc = BlessTupleDesc(lookup_rowtype_tupdesc_copy(r->model_type, -1));
}

/*
 * The scaler of the points query by one scaling_agg query (its points,
 * features, scale and shift into r); robust: the counts by scaling_agg,
 * the median and quartiles by passes of quantile_pass_agg (caller: the
 * function named in messages)
 */
static void
split_scaler_sql(ElbowRun *r, ecore_scale_method method, const char *caller)
{
	Oid			types[1] = {TEXTOID};
	Datum		args[1];
	HeapTupleHeader scal;
	bool		isnull;
	ArrayType  *a;
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s.scaling_agg(%s, $1) FROM %s",
					 r->q.schema, r->q.features, r->q.from);
	/* robust: the counts here, the median and quartiles by passes */
	args[0] = CStringGetTextDatum(ecore_scale_method_name(method == ECORE_SCALE_ROBUST ?
														  ECORE_SCALE_NONE : method));
	scal = fit_query_row(sql.data, 1, types, args);
	if (scal == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the points query returned no rows"),
				 errhint("Check the query's WHERE clause and the table it reads.")));
	r->n = DatumGetInt64(GetAttributeByName(scal, "n_points", &isnull));
	a = DatumGetArrayTypeP(GetAttributeByName(scal, "scale", &isnull));
	r->d = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
	r->s.method = method;
	r->s.d = r->d;
	r->s.scale = palloc(sizeof(double) * r->d);
	r->s.offset = palloc(sizeof(double) * r->d);
	composite_floats(scal, "scale", r->s.scale, r->d);
	composite_floats(scal, "shift", r->s.offset, r->d);
	r->s.mean = r->s.var = r->s.data_min = r->s.data_max = r->s.scale;
	if (method == ECORE_SCALE_ROBUST)
		robust_passes_sql(r->q.schema, r->q.features, r->q.from, r->d, r->n, &r->s,
						  caller, r->start);
}

/* The feature names of the models (f1..fd for a features array) */
static void
split_names(ElbowRun *r)
{
	Datum	   *nd = palloc(sizeof(Datum) * r->d);
	int			j;

	if (r->q.array_mode)
	{
		r->q.d = r->d;
		r->q.names = palloc(sizeof(char *) * r->d);
		for (j = 0; j < r->d; j++)
			r->q.names[j] = psprintf("f%d", j + 1);
	}
	for (j = 0; j < r->d; j++)
		nd[j] = CStringGetTextDatum(r->q.names[j]);
	r->names = construct_array(nd, r->d, TEXTOID, -1, false, TYPALIGN_INT);
}

/*
 * elbow_fit_sampled: the elbow curve of src/core/elbow_agg.h, on
 * aggregates over the points query (every step one kmeans_steps_agg
 * query, the sample one ORDER BY coreset_key LIMIT query), or with
 * in_memory on the points read once; the same rows either way, the
 * columns of elbow_inertia.
 */
PG_FUNCTION_INFO_V1(engage_elbow_fit_sampled);
Datum
engage_elbow_fit_sampled(PG_FUNCTION_ARGS)
{
	EngageSplitElbow a;
	ecore_scale_method method;
	ecore_kmeans_init init;
	bool		auto_sample = PG_ARGISNULL(9);
	int32		sample = auto_sample ? 0 : PG_GETARG_INT32(9);
	int			k_min,
				k_max;
	double		tol;

	engage_require_arg(fcinfo, 0, "points");
	engage_require_arg(fcinfo, 1, "k_min");
	engage_require_arg(fcinfo, 2, "k_max");
	engage_require_arg(fcinfo, 3, "normalization");
	engage_require_arg(fcinfo, 4, "n_init");
	engage_require_arg(fcinfo, 5, "max_iter");
	engage_require_arg(fcinfo, 6, "tol");
	engage_require_arg(fcinfo, 7, "seed");
	engage_require_arg(fcinfo, 8, "init");
	engage_require_arg(fcinfo, 10, "in_memory");
	k_min = PG_GETARG_INT32(1);
	k_max = PG_GETARG_INT32(2);
	method = normalization_arg(PG_GETARG_TEXT_PP(3));
	tol = PG_GETARG_FLOAT8(6);
	if (k_min < 1 || k_max > ECORE_KSTEP_MAX_K || k_min > k_max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k_min and k_max must satisfy 1 <= k_min <= k_max <= %d, not %d and %d",
						ECORE_KSTEP_MAX_K, k_min, k_max)));
	if (PG_GETARG_INT32(4) < 1 || PG_GETARG_INT32(4) > FIT_MAX_N_INIT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_init must be between 1 and %d, not %d", FIT_MAX_N_INIT,
						PG_GETARG_INT32(4))));
	if (PG_GETARG_INT32(5) < 1 || PG_GETARG_INT32(5) > FIT_MAX_ITER)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_iter must be between 1 and %d, not %d", FIT_MAX_ITER,
						PG_GETARG_INT32(5))));
	if (!isfinite(tol) || tol < 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tol must be a finite number at least 0, not %g", tol)));
	if (ecore_kmeans_init_parse(text_to_cstring(PG_GETARG_TEXT_PP(8)), &init) != ECORE_OK ||
		init == ECORE_INIT_USER)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown init \"%s\"", text_to_cstring(PG_GETARG_TEXT_PP(8))),
				 errhint("Use \"k-means++\" or \"random\".")));
	if (!auto_sample && (sample < 0 || (sample > 0 && sample < k_max)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sample must be 0 or at least k_max (%d), not %d", k_max, sample),
				 errhint("Pass 0 for the restarts on every point, NULL to let elbow_fit_sampled choose.")));

	memset(&a, 0, sizeof(a));
	a.function = "elbow_fit_sampled";
	a.points = text_to_cstring(PG_GETARG_TEXT_PP(0));
	a.k_min = k_min;
	a.k_max = k_max;
	a.method = method;
	a.n_init = PG_GETARG_INT32(4);
	a.max_iter = PG_GETARG_INT32(5);
	a.tol = tol;
	a.seed = PG_GETARG_INT64(7);
	a.init = init;
	a.auto_sample = auto_sample;
	a.sample = sample;
	a.in_memory = PG_GETARG_BOOL(10);
	engage_split_elbow_rows(fcinfo, &a);
	return (Datum) 0;
}

/*
 * The elbow curve of src/core/elbow_agg.h into the SRF of fcinfo: on
 * aggregates over the points query (every step one kmeans_steps_agg
 * query, the sample one ORDER BY coreset_key LIMIT query), with in_memory
 * on its points read once, or on points in memory given (a->mem); the
 * same rows in every case, the columns of elbow_inertia.
 */
void
engage_split_elbow_rows(FunctionCallInfo fcinfo, const EngageSplitElbow *a)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ElbowRun	r;
	ecore_elbow_agg_params ep;
	ecore_elbow_agg_out out;
	ecore_elbow_agg_source src;
	ecore_env	env;
	ecore_scale_method method = a->method;
	int			k_min = a->k_min,
				k_max = a->k_max,
				nk,
				k,
				rc,
				nestlevel = 0;
	double	   *xs;
	long		knee = -1;
	size_t		bytes;
	MemoryContext caller = CurrentMemoryContext,
				scratch;
	StringInfoData sql;

	memset(&r, 0, sizeof(r));
	r.seed = a->seed;
	r.in_memory = a->in_memory || a->mem != NULL;
	InitMaterializedSRF(fcinfo, 0);
	scratch = split_run_context(&r, &env);

	if (a->mem != NULL)
	{
		/* the points given: no query */
		r.mem = *a->mem;
		r.mem.env = &env;
		r.s = *a->s;
		r.n = (int64) a->mem->n;
		r.d = (int) a->mem->d;
		r.q.d = r.d;
		r.q.names = a->names;
		split_names(&r);
	}
	else
	{
		SPI_connect();
		nestlevel = NewGUCNestLevel();
		(void) set_config_option("transaction_read_only", "on", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
		split_begin(&r, fcinfo, a->points);
		if (r.in_memory)
			elbow_read_points(&r, method);
		else
			split_scaler_sql(&r, method, a->function);
		split_names(&r);
		initStringInfo(&sql);
		appendStringInfo(&sql, "SELECT %s.kmeans_steps_agg($1, %s) FROM %s",
						 r.q.schema, r.q.features, r.q.from);
		r.steps_sql = sql.data;
		initStringInfo(&sql);
		appendStringInfo(&sql, "SELECT %s.kmeans_steps_agg($1, %s, $2) FROM %s",
						 r.q.schema, r.q.features, r.q.from);
		r.steps_centres_sql = sql.data;
	}
	if (engage_progress)
		engage_progress_notice(r.start, "elbow_fit_sampled: %lld points of %d features%s",
							   (long long) r.n, r.d, r.in_memory ? ", in memory" : "");

	ecore_elbow_agg_params_default(&ep);
	ep.km.init = a->init;
	ep.km.n_init = a->n_init;
	ep.km.max_iter = a->max_iter;
	ep.km.tol = a->tol;
	ep.km.seed = (uint64_t) r.seed;
	ep.km.n_threads = engage_threads;
	ep.k_min = k_min;
	ep.k_max = k_max;
	if (a->auto_sample)
		ep.sample = r.n > ECORE_ELBOW_AUTO_EXACT_MAX ? ECORE_ELBOW_AUTO_SAMPLE : 0;
	else
		ep.sample = (size_t) a->sample;
	ep.in_memory = r.in_memory ? 1 : 0;
	if (engage_progress)
	{
		ep.progress = elbow_agg_progress;
		ep.progress_arg = &r;
	}
	if (r.n < k_max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k_max (%d) is more than the %lld points", k_max, (long long) r.n)));
	rc = ecore_elbow_agg_bytes((size_t) r.n, (size_t) r.d, &ep, &bytes);
	if (rc != ECORE_OK)
		ereport(ERROR,
				(errcode(rc == ECORE_EOVERFLOW ? ERRCODE_PROGRAM_LIMIT_EXCEEDED :
						 ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", ecore_strerror(rc))));
	engage_check_memory(r.in_memory ? (Size) r.n * (r.d * 2 * sizeof(double) + 48) : 0, bytes);
	if (r.in_memory)
	{
		src.steps = ecore_elbow_memory_steps;
		src.sample = ecore_elbow_memory_sample;
		src.arg = &r.mem;
		src.memory = &r.mem;
	}
	else
	{
		src.steps = elbow_sql_steps;
		src.sample = elbow_sql_sample;
		src.arg = &r;
		src.memory = NULL;
	}
	nk = k_max - k_min + 1;
	memset(&out, 0, sizeof(out));
	/* in scratch: SPI's memory goes at SPI_finish */
	out.inertia = MemoryContextAlloc(scratch, sizeof(double) * nk);
	out.silhouette = MemoryContextAlloc(scratch, sizeof(double) * nk);
	out.davies_bouldin = MemoryContextAlloc(scratch, sizeof(double) * nk);
	out.calinski_harabasz = MemoryContextAlloc(scratch, sizeof(double) * nk);
	out.iterations = MemoryContextAlloc(scratch, sizeof(int) * nk);
	out.centroids = MemoryContextAllocHuge(scratch, sizeof(double) * nk * k_max * r.d);
	rc = ecore_elbow_agg((size_t) r.n, (size_t) r.d, &ep, &src, &env, &out);
	if (rc == ECORE_EDISTINCT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fewer distinct points than k = %d clusters", out.k)));
	if (rc != ECORE_OK)
		ereport(ERROR,
				(errcode(rc == ECORE_ENOMEM || rc == ECORE_EOVERFLOW ?
						 ERRCODE_PROGRAM_LIMIT_EXCEEDED : ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", ecore_strerror(rc)),
				 errcontext("%s: k = %d", a->function, out.k)));
	if (engage_progress)
		engage_progress_notice(r.start, "elbow_fit_sampled: %d steps over every point, %d runs refined",
							   out.steps, out.candidates);
	xs = MemoryContextAlloc(scratch, sizeof(double) * nk);
	for (k = k_min; k <= k_max; k++)
		xs[k - k_min] = k;
	if (ecore_knee_locate(xs, out.inertia, nk, 1.0, ECORE_KNEE_CONVEX,
						   ECORE_KNEE_DECREASING, &knee) != ECORE_OK)
		knee = -1;
	if (a->mem == NULL)
	{
		AtEOXact_GUC(true, nestlevel);
		SPI_finish();
	}

	MemoryContextSwitchTo(caller);
	for (k = k_min; k <= k_max; k++)
	{
		Datum		values[9];
		bool		nulls[9] = {false};
		double		s = out.silhouette[k - k_min],
					db = out.davies_bouldin[k - k_min],
					ch = out.calinski_harabasz[k - k_min];

		values[0] = Int32GetDatum(k);
		values[1] = Float8GetDatum(out.inertia[k - k_min]);
		if (isnan(s))
			nulls[2] = true;
		else
			values[2] = Float8GetDatum(s);
		values[3] = Int32GetDatum(out.iterations[k - k_min]);
		values[4] = BoolGetDatum(knee >= 0 && k - k_min == knee);
		values[5] = PointerGetDatum(engage_float8_matrix(out.centroids + (Size) (k - k_min) * k_max * r.d,
												  k, r.d));
		if (out.sampled)
			values[6] = Int32GetDatum((int32) out.sample_used);
		else
			nulls[6] = true;
		values[7] = Float8GetDatum(db);
		nulls[7] = isnan(db);
		values[8] = Float8GetDatum(ch);
		nulls[8] = isnan(ch);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	MemoryContextDelete(scratch);
}

/* ---------------------------------------------------------------------
 * kmeans_fit_sampled(points, k, normalization, n_init, max_iter, seed,
 *					  init, sample, in_memory)
 * ---------------------------------------------------------------------
 */

/* ecore_fit_source.step: one kmeans_step_agg query */
static int
fit_sql_step(void *arg, int k, const double *C, ecore_kstep_out *out)
{
	ElbowRun   *r = (ElbowRun *) arg;
	MemoryContext old;
	HeapTupleHeader step;
	Oid			types[1];
	Datum		args[1];
	bool		isnull;

	MemoryContextReset(r->callcxt);
	old = MemoryContextSwitchTo(r->callcxt);
	types[0] = r->model_type;
	args[0] = elbow_model(r, k, C, NAN, -1);
	step = fit_query_row(r->step_sql, 1, types, args);
	if (step == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the points query returned no rows on a step of kmeans_fit_sampled")));
	composite_floats(step, "centroids_normalized", out->next, k * r->d);
	composite_int8s(step, "sizes", (int64 *) out->sizes, k);
	composite_floats(step, "cluster_inertia", out->cluster_inertia, k);
	out->inertia = DatumGetFloat8(GetAttributeByName(step, "inertia", &isnull));
	out->n = DatumGetInt64(GetAttributeByName(step, "n_points", &isnull));
	out->empty = DatumGetInt32(GetAttributeByName(step, "empty_clusters", &isnull));
	out->fixed_point = DatumGetBool(GetAttributeByName(step, "converged", &isnull));
	out->relocated = 0;
	SPI_freetuptable(SPI_tuptable);
	MemoryContextSwitchTo(old);
	return ECORE_OK;
}

/*
 * ecore_fit_source.sample: the want points of smallest (sample_hash, key
 * text, features) or, when not sampled, every point by (key text,
 * features) (sample_rows)
 */
static int
fit_sql_sample(void *arg, int sampled, size_t want, double *SZ, size_t *got)
{
	ElbowRun   *r = (ElbowRun *) arg;
	Oid			types[1] = {INT8OID};
	Datum		args[1];
	MemoryContext old;

	MemoryContextReset(r->callcxt);
	old = MemoryContextSwitchTo(r->callcxt);
	args[0] = Int64GetDatum(r->seed);
	*got = sample_rows(r, sampled ? psprintf("%s.sample_hash(p.k::text, $1)", r->q.schema) : NULL,
					   sampled ? 1 : 0, types, args, want, SZ, NULL, "kmeans_fit_sampled");
	MemoryContextSwitchTo(old);
	return ECORE_OK;
}

/* ecore_fit_params.progress: a NOTICE with engage.progress on */
static void
fit_progress(void *arg, const char *stage, int value, double inertia)
{
	ElbowRun   *r = (ElbowRun *) arg;

	if (strcmp(stage, "step") == 0 || strcmp(stage, "start step") == 0)
		engage_progress_notice(r->start, "kmeans_fit_sampled: %s %d, inertia %.17g",
							   stage, value, inertia);
	else if (strcmp(stage, "start won") == 0 || strcmp(stage, "start lost") == 0)
		engage_progress_notice(r->start, "kmeans_fit_sampled: the initial centroids' candidate %s (%d steps, inertia %.17g)",
							   stage[6] == 'w' ? "kept" : "not kept", value, inertia);
	else
		engage_progress_notice(r->start, "kmeans_fit_sampled: %d %s", value, stage);
}

/*
 * The parameters of the split fit for n points: k, n_init, max_iter, seed
 * and init (k-means++ or random) as given, the restarts' tolerance the
 * core's default, engage.threads threads; the sample: auto_sample, every
 * point up to ECORE_ELBOW_AUTO_EXACT_MAX points, else
 * ECORE_ELBOW_AUTO_SAMPLE; else sample (0: every point).  Shared by
 * kmeans_fit_sampled and run_analysis's store_user_clusters, so that both
 * run the one algorithm.
 */
void
engage_split_fit_params(ecore_fit_params *fp, int k, int n_init, int max_iter,
						int64 seed, ecore_kmeans_init init, bool auto_sample,
						int64 sample, int64 n)
{
	memset(fp, 0, sizeof(*fp));
	ecore_kmeans_params_default(&fp->km);
	fp->km.k = k;
	fp->km.init = init;
	fp->km.n_init = n_init;
	fp->km.max_iter = max_iter;
	fp->km.seed = (uint64_t) seed;
	fp->km.n_threads = engage_threads;
	if (auto_sample)
		fp->sample = n <= ECORE_ELBOW_AUTO_EXACT_MAX ? (size_t) n : ECORE_ELBOW_AUTO_SAMPLE;
	else
		fp->sample = (sample == 0 || sample > n) ? (size_t) n : (size_t) sample;
}

/*
 * Report a status of ecore_fit_sampled (the function's name, k and the
 * sample in the context)
 */
void
engage_split_fit_error(int rc, const char *function, int k, size_t sample)
{
	if (rc == ECORE_EDISTINCT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fewer distinct points than k = %d clusters", k),
				 errcontext("%s: restarts on a sample of %zu points", function, sample)));
	ereport(ERROR,
			(errcode(rc == ECORE_ENOMEM || rc == ECORE_EOVERFLOW ?
					 ERRCODE_PROGRAM_LIMIT_EXCEEDED : ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", ecore_strerror(rc)),
			 errcontext("%s: k = %d, restarts on a sample of %zu points",
						function, k, sample)));
}

/*
 * A start of the fit from a k x d float8[] in the features' units,
 * normalised by the fit's scaler (see split.h).  kmeans_cluster's
 * initial_centroids are checked the same way, with the same messages.
 */
double *
engage_split_start(ArrayType *arr, const char *name, int k, int d,
				   const ecore_scaler *s, ecore_env *env)
{
	double	   *c;
	size_t		col;
	int			rc,
				i;

	if (ARR_ELEMTYPE(arr) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s must be double precision[]", name)));
	if (ARR_NDIM(arr) != 2 || ARR_DIMS(arr)[0] != k || ARR_DIMS(arr)[1] != d)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a %d x %d array (k x features)", name, k, d)));
	if (ARR_HASNULL(arr) && array_contains_nulls(arr))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not contain nulls", name)));
	c = palloc(sizeof(double) * k * d);
	rc = ecore_scaler_transform(s, (double *) ARR_DATA_PTR(arr), k, c, env);
	if (rc == ECORE_ENEGATIVE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_ARGUMENT_FOR_LOG),
				 errmsg("initial centroid %zu has a negative feature",
						env->error_row + 1),
				 errdetail("The log normalization takes log(1 + x) of every feature, which needs x >= 0.")));
	if (rc != ECORE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("initial centroid %zu is not finite",
						env->error_row + 1)));
	for (i = 0; i < k; i++)
		if (ecore_check_row(c + (size_t) i * d, (size_t) d, ECORE_MAX_ABS_CENTROID,
							&col) != ECORE_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("initial centroid %d is not finite or too large", i + 1)));
	return c;
}

/*
 * kmeans_fit_sampled: ecore_fit_sampled (src/core/elbow_agg.h) on the
 * points query, each step one kmeans_step_agg query and the sample one
 * ORDER BY sample_hash(...) LIMIT query, the scaler by scaling_agg; or,
 * with in_memory, on the points read once (the scaler from the same
 * exact sums): the same model bit for bit.  With initial_centroids (k x
 * d, the features' units), these centroids normalised by the fit's scaler
 * are one more candidate beside the restarts (ecore_fit_params.start).
 * Returns engage.kmeans_model, clusters numbered by ascending centroid
 * norm as kmeans_model's.
 */
PG_FUNCTION_INFO_V1(engage_kmeans_fit_sampled);
Datum
engage_kmeans_fit_sampled(PG_FUNCTION_ARGS)
{
	int			k,
				n_init,
				max_iter,
				d,
				rc,
				nestlevel;
	ecore_scale_method method;
	ecore_kmeans_init init;
	bool		auto_sample = PG_ARGISNULL(7);
	int64		sample = auto_sample ? 0 : PG_GETARG_INT32(7);
	TupleDesc	tupdesc;
	ElbowRun	r;
	ecore_fit_params fp;
	ecore_fit_source src;
	ecore_fit_out out;
	ecore_env	env;
	size_t		bytes;
	double	   *orig;
	MemoryContext caller = CurrentMemoryContext,
				scratch;
	StringInfoData sql;
	Datum		values[12];
	bool		nulls[12] = {false};
	HeapTuple	result;

	engage_require_arg(fcinfo, 0, "points");
	engage_require_arg(fcinfo, 1, "k");
	engage_require_arg(fcinfo, 2, "normalization");
	engage_require_arg(fcinfo, 3, "n_init");
	engage_require_arg(fcinfo, 4, "max_iter");
	engage_require_arg(fcinfo, 5, "seed");
	engage_require_arg(fcinfo, 6, "init");
	engage_require_arg(fcinfo, 8, "in_memory");
	memset(&r, 0, sizeof(r));
	k = PG_GETARG_INT32(1);
	method = normalization_arg(PG_GETARG_TEXT_PP(2));
	n_init = PG_GETARG_INT32(3);
	max_iter = PG_GETARG_INT32(4);
	r.seed = PG_GETARG_INT64(5);
	r.in_memory = PG_GETARG_BOOL(8);
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
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	scratch = split_run_context(&r, &env);

	SPI_connect();
	/*
	 * Every query runs read-only (transaction_read_only, restored on return
	 * or error), so that functions the points query calls cannot change
	 * data: as kmeans_cluster's points query (points.c)
	 */
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("transaction_read_only", "on", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	split_begin(&r, fcinfo, text_to_cstring(PG_GETARG_TEXT_PP(0)));
	if (r.in_memory)
		elbow_read_points(&r, method);
	else
		split_scaler_sql(&r, method, "kmeans_fit_sampled");
	split_names(&r);
	d = r.d;
	if (engage_progress)
		engage_progress_notice(r.start, "kmeans_fit_sampled: scaler of %lld points%s",
							   (long long) r.n, r.in_memory ? ", in memory" : "");

	engage_split_fit_params(&fp, k, n_init, max_iter, r.seed, init, auto_sample,
							sample, r.n);
	if (fp.sample < (size_t) k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the sample of %zu points is smaller than k = %d",
						fp.sample, k)));
	if (engage_progress)
	{
		fp.progress = fit_progress;
		fp.progress_arg = &r;
	}
	if (PG_NARGS() > 9 && !PG_ARGISNULL(9))
		fp.start = engage_split_start(PG_GETARG_ARRAYTYPE_P(9), "initial_centroids",
									  k, d, &r.s, &env);
	rc = ecore_fit_sampled_bytes((size_t) r.n, (size_t) d, &fp, r.in_memory, &bytes);
	if (rc != ECORE_OK)
		engage_split_fit_error(rc, "kmeans_fit_sampled", k, fp.sample);
	engage_check_memory(r.in_memory ? (Size) r.n * (d * 2 * sizeof(double) + 48) : 0, bytes);
	memset(&src, 0, sizeof(src));
	if (r.in_memory)
		src.memory = &r.mem;
	else
	{
		initStringInfo(&sql);
		appendStringInfo(&sql, "SELECT %s.kmeans_step_agg($1, %s) FROM %s",
						 r.q.schema, r.q.features, r.q.from);
		r.step_sql = sql.data;
		src.step = fit_sql_step;
		src.sample = fit_sql_sample;
		src.arg = &r;
	}
	memset(&out, 0, sizeof(out));
	out.centroids = palloc(sizeof(double) * k * d);
	out.sizes = palloc(sizeof(int64_t) * k);
	out.cluster_inertia = palloc(sizeof(double) * k);
	rc = ecore_fit_sampled((size_t) r.n, (size_t) d, &fp, &src, &env, &out);
	if (rc != ECORE_OK)
		engage_split_fit_error(rc, "kmeans_fit_sampled", k, fp.sample);

	/* the result, in the caller's memory context (SPI's goes at the end) */
	MemoryContextSwitchTo(caller);
	orig = palloc(sizeof(double) * k * d);
	memset(&env, 0, sizeof(env));
	ecore_scaler_inverse_transform(&r.s, out.centroids, k, orig, &env);
	values[0] = PointerGetDatum(r.names);
	values[1] = CStringGetTextDatum(ecore_scale_method_name(method));
	values[2] = PointerGetDatum(engage_float8_array(r.s.scale, d));
	values[3] = PointerGetDatum(engage_float8_array(r.s.offset, d));
	values[4] = PointerGetDatum(engage_float8_matrix(orig, k, d));
	values[5] = PointerGetDatum(engage_float8_matrix(out.centroids, k, d));
	values[6] = PointerGetDatum(engage_int8_array((int64 *) out.sizes, k));
	values[7] = Float8GetDatum(out.inertia);
	values[8] = Int32GetDatum(out.iterations);
	values[9] = BoolGetDatum(out.converged != 0);
	values[10] = Int64GetDatum(out.n);
	values[11] = PointerGetDatum(engage_float8_array(out.cluster_inertia, k));
	result = heap_form_tuple(tupdesc, values, nulls);
	AtEOXact_GUC(true, nestlevel);
	SPI_finish();
	MemoryContextSwitchTo(caller);
	MemoryContextDelete(scratch);
	PG_RETURN_DATUM(HeapTupleGetDatum(result));
}
