/*-------------------------------------------------------------------------
 *
 * kmeans_sql.c
 *	  SQL interface of engage's clustering: kmeans_cluster,
 *	  kmeans_cluster_rows, kmeans_centroids, kmeans_model, kmeans_predict,
 *	  kmeans_nearest, kmeans_assign, elbow_inertia, scaling_params,
 *	  normalize_points, the window function kmeans, and run_analysis's
 *	  internal store_* functions.
 *
 * A thin layer over the numerical core (kmeans.c, scale.c, knee.c, which
 * know nothing of PostgreSQL).  A call checks its arguments, then goes
 * through its steps once, in order: the points (points.c reads, validates
 * and orders them), their normalization, the clustering (or the assignment
 * to a model's clusters), and the result rows.  Every step checks the
 * memory it needs against engage.max_memory before allocating it; the core
 * gets palloc (in a scratch memory context) and CHECK_FOR_INTERRUPTS, and
 * its results and errors become rows and ereports.
 *
 * Errors.  A message about an argument names the argument.  While a call
 * works on its points, an error context callback says which function is
 * doing what, as COPY's says which line it is reading:
 *
 *		ERROR:  fewer distinct points than k = 3 clusters
 *		CONTEXT:  kmeans_cluster: clustering with k = 3
 *
 * Clusters are numbered 1..k by ascending norm of their centroid in the
 * normalised space, so with engagement features cluster 1 is the least
 * engaged group.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/rls.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
#include "windowapi.h"

#include "bulk_write.h"
#include "engage.h"
#include "points.h"
#include "run_points.h"
#include "split.h"
#include "core/kmeans.h"
#include "core/kmeans_step.h"
#include "core/knee.h"
#include "core/scale.h"

/* Bounds of the options (documented in the README) */
#define KMEANS_MAX_K		10000
#define KMEANS_MAX_N_INIT	1000
#define KMEANS_MAX_ITER		100000

/* Options of a clustering call, from its SQL arguments */
typedef struct KmeansOptions
{
	char	   *points;			/* the points query */
	int			k;
	ecore_scale_method normalization;
	int			n_init;
	int			max_iter;
	double		tol;
	int64		seed;
	ecore_kmeans_init init;
	ArrayType  *initial_centroids;	/* k x d, original units, or NULL */
	bool		rows;			/* kmeans_cluster_rows: keep the points' rows */
	int			features;		/* with rows: feature columns, -1 all */
	TupleDesc	row_desc;		/* with rows: the caller's column definitions */
	Oid			model_type;		/* with rows: engage.kmeans_model */
} KmeansOptions;

/* The step a call is in, for the context of its errors */
typedef enum KmeansStep
{
	KMEANS_STEP_NONE,			/* checking arguments: no context */
	KMEANS_STEP_POINTS,			/* reading the points query */
	KMEANS_STEP_NORMALIZATION,	/* fitting and applying the normalization */
	KMEANS_STEP_CLUSTERING,		/* clustering with k clusters */
	KMEANS_STEP_ASSIGNMENT		/* assigning the points to a model's clusters */
} KmeansStep;

/*
 * A call working on its points: the points read (in canonical order, but
 * for kmeans_assign), their scaler and normalised copy, the core's
 * environment, the memory held, and the step it is in, which its error
 * context callback reports.
 */
typedef struct KmeansData
{
	const char *function;		/* the SQL function */
	bool		window;			/* the window function kmeans: points
								 * without keys, from a partition */
	KmeansStep	step;
	int			k;				/* clusters of the clustering step */
	const ecore_elbow_out *elbow;	/* while elbow_inertia's curve runs: its
									 * out->k is the k being fitted */
	ErrorContextCallback errcallback;
	EngagePoints pts;
	ecore_scaler scaler;
	double	   *scaled;			/* n x d, normalised */
	ecore_env	env;
	Size		bytes;			/* memory held so far */
} KmeansData;

/* Core allocator: palloc_extended (huge) in the scratch context */
static void *
core_alloc(void *arg, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) arg, size,
									  MCXT_ALLOC_HUGE);
}

/* Stop and join the core's threads (an error or exit cleanup callback) */
static void
core_abort(int code, Datum arg)
{
	ecore_env *env = (ecore_env *) DatumGetPointer(arg);

	(void) code;
	if (env->abort_hook != NULL)
	{
		env->abort_hook(env->abort_arg);
		env->abort_hook = NULL;
	}
}

/*
 * Core interrupt check.  When the core runs threads it sets
 * env->abort_hook: before an interrupt leaves the core, the hook stops and
 * joins them, so that none runs on memory that is about to go.  That is an
 * ERROR (cancel, statement_timeout), which longjmps, or a FATAL
 * (pg_terminate_backend, shutdown), which exits without longjmp and frees
 * the transaction's memory on the way: PG_ENSURE_ERROR_CLEANUP covers both.
 * Also the split K-means' (kmeans_agg.c), whose restarts run threads.
 */
void
engage_core_check(void *arg)
{
	ecore_env *env = (ecore_env *) arg;

	if (env->abort_hook == NULL)
	{
		CHECK_FOR_INTERRUPTS();
		return;
	}
	PG_ENSURE_ERROR_CLEANUP(core_abort, PointerGetDatum(env));
	{
		CHECK_FOR_INTERRUPTS();
	}
	PG_END_ENSURE_ERROR_CLEANUP(core_abort, PointerGetDatum(env));
}

/* Error context callback: the function and the step it is in */
static void
kmeans_error_context(void *arg)
{
	const KmeansData *kd = (const KmeansData *) arg;

	switch (kd->step)
	{
		case KMEANS_STEP_NONE:
			break;
		case KMEANS_STEP_POINTS:
			if (kd->window)
				errcontext("%s: reading the features of the partition's rows", kd->function);
			else
				errcontext("%s: reading the points query", kd->function);
			break;
		case KMEANS_STEP_NORMALIZATION:
			errcontext("%s: applying the normalization", kd->function);
			break;
		case KMEANS_STEP_CLUSTERING:
			errcontext("%s: clustering with k = %d", kd->function,
					   kd->elbow != NULL ? kd->elbow->k : kd->k);
			break;
		case KMEANS_STEP_ASSIGNMENT:
			errcontext("%s: assigning the points to the model's clusters", kd->function);
			break;
	}
}

/*
 * Start the work of a call of SQL function `function` on its points: an
 * empty kd whose core allocates in the current memory context (the call's
 * scratch context), and its error context callback pushed.  kmeans_end pops
 * it.
 */
static void
kmeans_begin(KmeansData *kd, const char *function)
{
	memset(kd, 0, sizeof(*kd));
	kd->function = function;
	kd->step = KMEANS_STEP_NONE;
	kd->env.alloc = core_alloc;
	kd->env.alloc_arg = CurrentMemoryContext;
	kd->env.check = engage_core_check;
	kd->env.check_arg = &kd->env;
	kd->errcallback.callback = kmeans_error_context;
	kd->errcallback.arg = kd;
	kd->errcallback.previous = error_context_stack;
	error_context_stack = &kd->errcallback;
}

/* Enter a step (k: the clusters of a clustering step, else 0) */
static inline void
kmeans_step(KmeansData *kd, KmeansStep step, int k)
{
	kd->step = step;
	kd->k = k;
}

/* End the work on the points: pop the error context callback */
static void
kmeans_end(KmeansData *kd)
{
	Assert(error_context_stack == &kd->errcallback);
	error_context_stack = kd->errcallback.previous;
}

/*
 * The key of point i of a call, for a message; points kept by
 * store_user_clusters for the elbow (keys not kept) by their position in
 * the canonical order; the window function's (no key) by their features.
 */
static char *
point_name(const KmeansData *kd, Size i)
{
	if (kd->window)
	{
		/* no key: the point's features, in their units */
		StringInfoData buf;
		int			j;

		initStringInfo(&buf);
		appendStringInfoChar(&buf, '{');
		for (j = 0; j < kd->pts.d; j++)
		{
			if (j > 0)
				appendStringInfoChar(&buf, ',');
			appendStringInfoString(&buf, float8out_internal(kd->pts.data[i * kd->pts.d + j]));
		}
		appendStringInfoChar(&buf, '}');
		return buf.data;
	}
	if (kd->pts.keys == NULL && kd->pts.rowbuf == NULL)
		return psprintf("number %zu", i + 1);
	return engage_point_key(&kd->pts, i);
}

/* Raise a core status as an error */
static void
core_error(int status, const KmeansData *kd)
{
	switch (status)
	{
		case ECORE_EDISTINCT:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("fewer distinct points than k = %d clusters", kd->k),
					 errhint("Ask for fewer clusters.")));
			break;
		case ECORE_ENONFINITE:
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("feature \"%s\" of point \"%s\" is not finite",
							kd->pts.feature_names[kd->env.error_col],
							point_name(kd, kd->env.error_row)),
					 errhint("Leave such points out of the points query.")));
			break;
		case ECORE_ERANGE:
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("feature \"%s\" of point \"%s\" is too large",
							kd->pts.feature_names[kd->env.error_col],
							point_name(kd, kd->env.error_row)),
					 errdetail("Features must be at most 1e100 in magnitude."),
					 errhint("Leave such points out of the points query.")));
			break;
		case ECORE_ENEGATIVE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_ARGUMENT_FOR_LOG),
					 errmsg("feature \"%s\" of point \"%s\" is negative",
							kd->pts.feature_names[kd->env.error_col],
							point_name(kd, kd->env.error_row)),
					 errdetail("The log normalization takes log(1 + x) of every feature, which needs x >= 0."),
					 errhint("Leave such points out of the points query, or use another normalization.")));
			break;
		case ECORE_EINIT_VALUE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("initial centroid %zu is not finite or too large",
							kd->env.error_row + 1)));
			break;
		case ECORE_EUNDERFLOW:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("points too close together to be clustered"),
					 errdetail("Their squared distances underflow double precision: the normalized points span less than 1e-150, or some differ only by less than about 1e-154."),
					 errhint("Express the features in a smaller unit (multiply them by a large constant); a normalization treats such a feature as constant.")));
			break;
		case ECORE_ENOMEM:
			/* not with core_alloc, which raises palloc's own error */
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("The numerical core could not allocate its work space.")));
			break;
		default:
			elog(ERROR, "numerical core failed: %s", ecore_strerror(status));
	}
}

/* Parse the normalization option */
static ecore_scale_method
parse_normalization(const char *value)
{
	ecore_scale_method m;

	if (ecore_scale_method_parse_all(value, &m) != ECORE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown normalization \"%s\"", value),
				 errhint("Use \"zscore\", \"minmax\", \"log\", \"robust\" or \"none\".")));
	return m;
}

/*
 * Read the options of kmeans_cluster / kmeans_centroids / kmeans_model /
 * elbow_inertia.  Their arguments are (points, k | k_min, k_max,
 * normalization, n_init, max_iter, tol, seed, init[, initial_centroids]);
 * `first` is the argument number of normalization.
 */
static void
parse_options(FunctionCallInfo fcinfo, KmeansOptions *o, int first,
			  bool has_initial)
{
	char	   *init;
	int			i;
	static const char *const names[] = {"normalization", "n_init", "max_iter",
	"tol", "seed", "init"};

	engage_require_arg(fcinfo, 0, "points");
	for (i = 0; i < 6; i++)
		engage_require_arg(fcinfo, first + i, names[i]);
	o->rows = false;
	o->features = -1;
	o->row_desc = NULL;
	o->points = text_to_cstring(PG_GETARG_TEXT_PP(0));
	o->normalization = parse_normalization(text_to_cstring(PG_GETARG_TEXT_PP(first)));
	o->n_init = PG_GETARG_INT32(first + 1);
	o->max_iter = PG_GETARG_INT32(first + 2);
	o->tol = PG_GETARG_FLOAT8(first + 3);
	o->seed = PG_GETARG_INT64(first + 4);
	init = text_to_cstring(PG_GETARG_TEXT_PP(first + 5));
	o->initial_centroids = (has_initial && !PG_ARGISNULL(first + 6)) ?
		PG_GETARG_ARRAYTYPE_P(first + 6) : NULL;

	if (o->n_init < 1 || o->n_init > KMEANS_MAX_N_INIT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_init must be between 1 and %d, not %d",
						KMEANS_MAX_N_INIT, o->n_init)));
	if (o->max_iter < 1 || o->max_iter > KMEANS_MAX_ITER)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_iter must be between 1 and %d, not %d",
						KMEANS_MAX_ITER, o->max_iter)));
	if (!(o->tol >= 0.0 && o->tol < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tol must be at least 0 and below 1, not %g", o->tol)));

	/* "given" exists only for the functions that take initial_centroids */
	if (ecore_kmeans_init_parse(init, &o->init) != ECORE_OK ||
		(o->init == ECORE_INIT_USER && !has_initial))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown init value \"%s\"", init),
				 errhint(has_initial ?
						 "Use \"k-means++\", \"random\", or \"given\" with initial_centroids." :
						 "Use \"k-means++\" or \"random\".")));
	if (o->init == ECORE_INIT_USER && o->initial_centroids == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("init \"given\" needs initial_centroids"),
				 errhint("Pass a k x d double precision[][] array of centroids in the features' units.")));
	if (o->init != ECORE_INIT_USER && o->initial_centroids != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("initial_centroids are used only with init \"given\"")));
}

/*
 * Check k (the argument called name) against its bounds and, when n is not
 * negative, against the number of points.
 */
static void
check_k(int k, int64 n, const char *name)
{
	if (k < 1 || k > KMEANS_MAX_K)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be between 1 and %d, not %d",
						name, KMEANS_MAX_K, k)));
	if (n >= 0 && k > n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg_plural("%s = %d is more than the %lld point",
							   "%s = %d is more than the %lld points",
							   (unsigned long) n,
							   name, k, (long long) n),
				 errhint("Ask for at most as many clusters as there are points.")));
}

/*
 * The normalization step: fit the scaler on the points read and make
 * their normalised copy, in the current memory context, after checking
 * the memory against engage.max_memory (points read with their rows are
 * normalised in place).
 */
static void
apply_normalization(KmeansData *kd, ecore_scale_method normalization)
{
	Size		n = kd->pts.n;
	Size		d = kd->pts.d;
	size_t		scaler_bytes;
	size_t		work_bytes;
	int			rc;

	kmeans_step(kd, KMEANS_STEP_NORMALIZATION, 0);
	if (ecore_scaler_bytes(d, &scaler_bytes) != ECORE_OK ||
		ecore_scaler_fit_bytes(normalization, n, &work_bytes) != ECORE_OK)
		elog(ERROR, "ecore_scaler_bytes failed");
	/* robust's work space (n doubles) is held until the call ends */
	scaler_bytes += work_bytes;
	engage_check_memory(kd->bytes, scaler_bytes + n * d * sizeof(double));
	rc = ecore_scaler_init(&kd->scaler, normalization, d, &kd->env);
	if (rc == ECORE_OK)
		rc = ecore_scaler_fit(&kd->scaler, kd->pts.data, n, &kd->env);
	if (rc != ECORE_OK)
		core_error(rc, kd);
	/* points read with their rows are not needed in the features' units */
	kd->scaled = kd->pts.rowbuf != NULL ? kd->pts.data :
		MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * n * d);
	rc = ecore_scaler_transform(&kd->scaler, kd->pts.data, n, kd->scaled, &kd->env);
	if (rc != ECORE_OK)
		core_error(rc, kd);
	kd->bytes += scaler_bytes + (kd->scaled != kd->pts.data ? n * d * sizeof(double) : 0);
	kmeans_step(kd, KMEANS_STEP_NONE, 0);
}

/*
 * Check the column definition list of a kmeans_cluster_rows call against
 * the columns of its points query: each of them with its type, then cluster
 * integer, distance double precision and, optionally, model
 * engage.kmeans_model.
 */
static void
check_row_columns(const KmeansOptions *o, TupleDesc query)
{
	TupleDesc	expected = o->row_desc;
	int			qn = query->natts;
	int			j;

	if (expected->natts != qn + 2 && expected->natts != qn + 3)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the column definition list has %d columns, not %d or %d",
						expected->natts, qn + 2, qn + 3),
				 errdetail("The points query has %d columns; the list has them, then cluster and distance, and optionally model.",
						   qn),
				 errhint("List the points query's columns, then cluster integer, distance double precision and, optionally, model engage.kmeans_model.")));
	for (j = 0; j < expected->natts; j++)
	{
		Oid			want = j < qn ? TupleDescAttr(query, j)->atttypid :
			j == qn ? INT4OID : j == qn + 1 ? FLOAT8OID : o->model_type;
		Form_pg_attribute att = TupleDescAttr(expected, j);

		if (att->atttypid != want)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of the column definition list has type %s, not %s",
							NameStr(att->attname), format_type_be(att->atttypid),
							format_type_be(want)),
					 errhint("List the points query's columns, then cluster integer, distance double precision and, optionally, model engage.kmeans_model.")));
	}
}

/*
 * The points step and the normalization step of a call: the points of
 * o->points, in canonical order, and their normalised copy, into kd.
 */
static void
points_and_normalization(const KmeansOptions *o, KmeansData *kd)
{
	kmeans_step(kd, KMEANS_STEP_POINTS, 0);
	if (o->rows)
	{
		engage_read_point_rows(o->points, o->features, &kd->pts);
		check_row_columns(o, kd->pts.tupdesc);
	}
	else
		engage_read_points(o->points, ENGAGE_POINTS_CANONICAL_ORDER, &kd->pts);
	kd->bytes = kd->pts.bytes;
	kmeans_step(kd, KMEANS_STEP_NONE, 0);
	apply_normalization(kd, o->normalization);
}

/* The user's initial centroids (k x d, original units), normalised */
static double *
initial_centroids(const KmeansOptions *o, KmeansData *kd)
{
	return engage_split_start(o->initial_centroids, "initial_centroids", o->k,
							  kd->pts.d, &kd->scaler, &kd->env);
}

/*
 * The clustering step: fit K-means with k clusters on the normalised
 * points, from the options' initialisation or, when start is not NULL,
 * from these k x d normalised centroids, after checking the memory against
 * engage.max_memory.  The call stays in the clustering step on return.
 */
static void
fit_kmeans(const KmeansOptions *o, KmeansData *kd, int k, const double *start,
		   ecore_kmeans_result *res)
{
	ecore_kmeans_params p;
	size_t		bytes;
	int			rc;

	kmeans_step(kd, KMEANS_STEP_CLUSTERING, k);
	ecore_kmeans_params_default(&p);
	p.k = k;
	p.init = o->init;
	p.n_init = o->n_init;
	p.max_iter = o->max_iter;
	p.tol = o->tol;
	p.seed = (uint64_t) o->seed;
	p.n_threads = engage_threads;
	if (start != NULL)
	{
		p.init = ECORE_INIT_USER;
		p.init_centroids = start;
	}

	rc = ecore_kmeans_bytes(kd->pts.n, kd->pts.d, &p, &bytes);
	if (rc != ECORE_OK)
		core_error(rc, kd);
	engage_check_memory(kd->bytes, bytes);
	rc = ecore_kmeans_fit(kd->scaled, kd->pts.n, kd->pts.d, &p, &kd->env, res);
	if (rc != ECORE_OK)
		core_error(rc, kd);
}

/* A text[] from n C strings */
static ArrayType *
text_array(char **values, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * n);
	int			i;

	for (i = 0; i < n; i++)
		d[i] = CStringGetTextDatum(values[i]);
	return construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT);
}

/* Create the scratch memory context of a call (name: a string literal) */
#define scratch_context(name) \
	AllocSetContextCreate(CurrentMemoryContext, name, ALLOCSET_DEFAULT_SIZES)

/*
 * The work of kmeans_cluster, kmeans_centroids and kmeans_model (SQL
 * function `function`): check their arguments (points, k, options), then,
 * in the scratch context, the points, their normalization and the
 * clustering, into kd and res; with original not NULL, also the centroids
 * in the features' units (k x d, in scratch).  The caller's context is
 * current on return.
 */
static void
cluster_points(FunctionCallInfo fcinfo, const char *function, MemoryContext scratch,
			   KmeansOptions *o, KmeansData *kd, ecore_kmeans_result *res,
			   double **original)
{
	MemoryContext old;
	double	   *start = NULL;

	engage_require_arg(fcinfo, 1, "k");
	parse_options(fcinfo, o, 2, true);
	o->k = PG_GETARG_INT32(1);
	check_k(o->k, -1, "k");
	old = MemoryContextSwitchTo(scratch);
	kmeans_begin(kd, function);
	points_and_normalization(o, kd);
	check_k(o->k, kd->pts.n, "k");
	if (o->init == ECORE_INIT_USER)
		start = initial_centroids(o, kd);
	fit_kmeans(o, kd, o->k, start, res);
	if (original != NULL)
	{
		*original = palloc(sizeof(double) * o->k * kd->pts.d);
		if (ecore_scaler_inverse_transform(&kd->scaler, res->centroids, o->k,
											*original, &kd->env) != ECORE_OK)
			elog(ERROR, "inverse transform of the centroids failed");
	}
	kmeans_end(kd);
	MemoryContextSwitchTo(old);
}

/*
 * The rows of kmeans_cluster and kmeans_assign: each point's key, cluster
 * (1..k, from 0-based labels) and distance, into the SRF's tuplestore.
 */
static void
put_assignments(ReturnSetInfo *rsinfo, const EngagePoints *pts,
				const int32_t *labels, const double *distances)
{
	int64		i;

	for (i = 0; i < pts->n; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		if (i + ENGAGE_PREFETCH_AHEAD < pts->n)
			engage_prefetch(pts->keys[i + ENGAGE_PREFETCH_AHEAD]);
		values[0] = PointerGetDatum(pts->keys[i]);
		values[1] = Int32GetDatum(labels[i] + 1);
		values[2] = Float8GetDatum(distances[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}

/*
 * kmeans_cluster(points, k, normalization, n_init, max_iter, tol, seed, init,
 * initial_centroids): one row per point: key, cluster (1..k), distance to
 * its centroid in the normalised space.
 */
PG_FUNCTION_INFO_V1(engage_kmeans_cluster);
Datum
engage_kmeans_cluster(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	KmeansOptions o;
	KmeansData	kd;
	ecore_kmeans_result res;
	MemoryContext scratch;

	InitMaterializedSRF(fcinfo, 0);
	scratch = scratch_context("engage kmeans_cluster");
	cluster_points(fcinfo, "kmeans_cluster", scratch, &o, &kd, &res, NULL);

	put_assignments(rsinfo, &kd.pts, res.labels, res.distances);
	MemoryContextDelete(scratch);
	return (Datum) 0;
}

/*
 * The Davies-Bouldin and Calinski-Harabasz indexes of a clustering of the
 * normalised points of kd (ecore_cluster_scores: NaN when undefined),
 * after checking their work space against engage.max_memory.
 */
static void
cluster_scores(KmeansData *kd, const ecore_kmeans_result *res,
			   double *davies_bouldin, double *calinski_harabasz)
{
	size_t		doubles;
	double	   *work;
	int			rc;

	rc = ecore_cluster_scores_work(res->k, kd->pts.d, &doubles);
	if (rc != ECORE_OK)
		core_error(rc, kd);
	engage_check_memory(kd->bytes, doubles * sizeof(double));
	work = MemoryContextAllocHuge(CurrentMemoryContext, doubles * sizeof(double));
	rc = ecore_cluster_scores(kd->scaled, kd->pts.n, kd->pts.d, res->labels,
							   res->k, work, &kd->env, davies_bouldin,
							   calinski_harabasz);
	if (rc != ECORE_OK)
		core_error(rc, kd);
	pfree(work);
}

/*
 * kmeans_centroids(same arguments): one row per cluster: cluster, size,
 * centroid (original units), centroid_normalized, inertia, and for the
 * whole clustering total_inertia, iterations, converged, features, and the
 * Davies-Bouldin and Calinski-Harabasz indexes in the normalised space
 * (NULL when k = 1 or k = the number of points).
 */
PG_FUNCTION_INFO_V1(engage_kmeans_centroids);
Datum
engage_kmeans_centroids(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	KmeansOptions o;
	KmeansData	kd;
	ecore_kmeans_result res;
	MemoryContext scratch;
	double	   *original;
	ArrayType  *features;
	double		davies_bouldin;
	double		calinski_harabasz;
	MemoryContext old;
	int			c;
	int			d;

	InitMaterializedSRF(fcinfo, 0);
	scratch = scratch_context("engage kmeans_centroids");
	cluster_points(fcinfo, "kmeans_centroids", scratch, &o, &kd, &res, &original);
	old = MemoryContextSwitchTo(scratch);
	cluster_scores(&kd, &res, &davies_bouldin, &calinski_harabasz);
	MemoryContextSwitchTo(old);
	d = kd.pts.d;
	features = text_array(kd.pts.feature_names, d);

	for (c = 0; c < o.k; c++)
	{
		Datum		values[11];
		bool		nulls[11] = {false};

		values[0] = Int32GetDatum(c + 1);
		values[1] = Int64GetDatum(res.sizes[c]);
		values[2] = PointerGetDatum(engage_float8_array(original + c * d, d));
		values[3] = PointerGetDatum(engage_float8_array(res.centroids + c * d, d));
		values[4] = Float8GetDatum(res.cluster_inertia[c]);
		values[5] = Float8GetDatum(res.inertia);
		values[6] = Int32GetDatum(res.iterations);
		values[7] = BoolGetDatum(res.converged != 0);
		values[8] = PointerGetDatum(features);
		values[9] = Float8GetDatum(davies_bouldin);
		nulls[9] = isnan(davies_bouldin);
		values[10] = Float8GetDatum(calinski_harabasz);
		nulls[10] = isnan(calinski_harabasz);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	MemoryContextDelete(scratch);
	return (Datum) 0;
}

/*
 * The engage.kmeans_model value (a tuple of tupdesc, in the current memory
 * context) of a clustering: features, normalization, the scaler's scale and
 * shift, the centroids in both spaces (original: in the features' units),
 * sizes, inertia, iterations, converged, points, each cluster's inertia.
 */
static HeapTuple
model_tuple(TupleDesc tupdesc, const KmeansOptions *o, const KmeansData *kd,
			const ecore_kmeans_result *res, const double *original)
{
	Datum		values[12];
	bool		nulls[12] = {false};
	Datum	   *sizes;
	int			d = kd->pts.d;
	int			c;

	sizes = palloc(sizeof(Datum) * o->k);
	for (c = 0; c < o->k; c++)
		sizes[c] = Int64GetDatum(res->sizes[c]);
	values[0] = PointerGetDatum(text_array(kd->pts.feature_names, d));
	values[1] = CStringGetTextDatum(ecore_scale_method_name(kd->scaler.method));
	values[2] = PointerGetDatum(engage_float8_array(kd->scaler.scale, d));
	values[3] = PointerGetDatum(engage_float8_array(kd->scaler.offset, d));
	values[4] = PointerGetDatum(engage_float8_matrix(original, o->k, d));
	values[5] = PointerGetDatum(engage_float8_matrix(res->centroids, o->k, d));
	values[6] = PointerGetDatum(construct_array(sizes, o->k, INT8OID, sizeof(int64),
												FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[7] = Float8GetDatum(res->inertia);
	values[8] = Int32GetDatum(res->iterations);
	values[9] = BoolGetDatum(res->converged != 0);
	values[10] = Int64GetDatum(kd->pts.n);
	values[11] = PointerGetDatum(engage_float8_array(res->cluster_inertia, o->k));
	return heap_form_tuple(tupdesc, values, nulls);
}

/*
 * kmeans_model(same arguments) returns engage.kmeans_model: everything
 * needed to assign new points (kmeans_predict) and to read the
 * clustering: features, normalization, the scaler's scale and shift, the
 * centroids in both spaces, sizes, inertia, iterations, converged.
 */
PG_FUNCTION_INFO_V1(engage_kmeans_model);
Datum
engage_kmeans_model(PG_FUNCTION_ARGS)
{
	KmeansOptions o;
	KmeansData	kd;
	ecore_kmeans_result res;
	MemoryContext scratch;
	TupleDesc	tupdesc;
	double	   *original;
	HeapTuple	tuple;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	scratch = scratch_context("engage kmeans_model");
	cluster_points(fcinfo, "kmeans_model", scratch, &o, &kd, &res, &original);
	tuple = model_tuple(BlessTupleDesc(tupdesc), &o, &kd, &res, original);
	MemoryContextDelete(scratch);
	PG_RETURN_DATUM(HeapTupleGetDatum(tuple));
}

/*
 * kmeans_cluster_rows(points, k, normalization, n_init, max_iter, tol, seed,
 * init, initial_centroids, features): kmeans_cluster's clustering, from one
 * read of the points query, returned as the query's rows: every column as
 * the query returned it (the key, the first `features` columns after it,
 * the features, and any others, carried through), then the cluster (1..k)
 * and the distance to its centroid in the normalised space, and, when the
 * column definition list asks for it, the model (engage.kmeans_model, as
 * kmeans_model returns it) on the first row (NULL on the others).  Rows in
 * the canonical order, as kmeans_cluster's.
 */
PG_FUNCTION_INFO_V1(engage_kmeans_cluster_rows);
Datum
engage_kmeans_cluster_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	KmeansOptions o;
	KmeansData	kd;
	ecore_kmeans_result res;
	MemoryContext scratch;
	MemoryContext old;
	double	   *start = NULL;
	double	   *original;
	Datum	   *values;
	bool	   *nulls;
	Datum		model = (Datum) 0;
	bool		want_model;
	int			qn;
	int64		i;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) || rsinfo->expectedDesc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("kmeans_cluster_rows must be called with a column definition list"),
				 errhint("Call it in FROM ... AS t(...), listing the points query's columns, then cluster integer and distance double precision.")));
	engage_require_arg(fcinfo, 1, "k");
	parse_options(fcinfo, &o, 2, true);
	o.k = PG_GETARG_INT32(1);
	check_k(o.k, -1, "k");
	o.rows = true;
	if (!PG_ARGISNULL(9))
	{
		o.features = PG_GETARG_INT32(9);
		if (o.features < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("features must be at least 1, not %d", o.features),
					 errhint("Pass NULL to cluster on every column after the key.")));
	}
	o.model_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
								   CStringGetDatum("kmeans_model"),
								   ObjectIdGetDatum(get_func_namespace(fcinfo->flinfo->fn_oid)));
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	o.row_desc = rsinfo->setDesc;

	/* the points with their rows, normalised, and the clustering */
	scratch = scratch_context("engage kmeans_cluster_rows");
	old = MemoryContextSwitchTo(scratch);
	kmeans_begin(&kd, "kmeans_cluster_rows");
	points_and_normalization(&o, &kd);
	check_k(o.k, kd.pts.n, "k");
	if (o.init == ECORE_INIT_USER)
		start = initial_centroids(&o, &kd);
	fit_kmeans(&o, &kd, o.k, start, &res);
	kmeans_end(&kd);

	qn = kd.pts.tupdesc->natts;
	want_model = (rsinfo->setDesc->natts == qn + 3);
	if (want_model)
	{
		TupleDesc	model_desc = lookup_rowtype_tupdesc(o.model_type, -1);

		original = palloc(sizeof(double) * o.k * kd.pts.d);
		if (ecore_scaler_inverse_transform(&kd.scaler, res.centroids, o.k,
											original, &kd.env) != ECORE_OK)
			elog(ERROR, "inverse transform of the centroids failed");
		model = HeapTupleGetDatum(model_tuple(model_desc, &o, &kd, &res, original));
		ReleaseTupleDesc(model_desc);
	}

	/* the rows, with their clusters */
	values = palloc(sizeof(Datum) * (qn + 3));
	nulls = palloc(sizeof(bool) * (qn + 3));
	for (i = 0; i < kd.pts.n; i++)
	{
		if (i + ENGAGE_PREFETCH_AHEAD < kd.pts.n)
			engage_prefetch(kd.pts.rowbuf + kd.pts.rowoff[i + ENGAGE_PREFETCH_AHEAD]);
		engage_point_row(&kd.pts, i, values, nulls);
		values[qn] = Int32GetDatum(res.labels[i] + 1);
		nulls[qn] = false;
		values[qn + 1] = Float8GetDatum(res.distances[i]);
		nulls[qn + 1] = false;
		values[qn + 2] = model;
		nulls[qn + 2] = (i > 0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(scratch);
	return (Datum) 0;
}

/*
 * The points of a run kept by store_user_clusters for run_analysis's elbow
 * curve (store_elbow_curve), so that the run's users are read once: what
 * elbow_inertia would build from the elbow's points query (the zscore
 * normalised points in canonical order, their count, features and feature
 * names, and the sample hashes of their keys for the seed), in a memory
 * context of its own.  At most one is kept, for the (sub)transaction that
 * made it: store_elbow_curve takes it, and the end of that (sub)transaction
 * (commit or abort) frees it.  Its memory counts against engage.max_memory
 * (engage_held_bytes) while it is kept.
 */
typedef struct ElbowCache
{
	MemoryContext cxt;			/* holds the cache itself and its arrays */
	int64		run_id;
	int64		seed;
	ecore_scale_method normalization;	/* of the kept points */
	SubTransactionId subid;		/* the (sub)transaction that made it */
	char	   *points;			/* the elbow's points query it serves */
	int64		n;
	int			d;
	double	   *scaled;			/* n x d, normalised, canonical order */
	uint64_t   *hashes;			/* n sample hashes of the keys for seed */
	char	  **feature_names;	/* d */
	Size		bytes;			/* scaled and hashes */
	/* kept by the split fit: the points for elbow_fit_sampled's curve */
	bool		split;
	ecore_scaler scaler;		/* of the exact sums */
	ecore_elbow_memory mem;		/* Z, X, hashes, keys (scaled, hashes too) */
} ElbowCache;

static ElbowCache *elbow_cache = NULL;
static bool elbow_cache_callbacks = false;

/* Free the kept points, if any */
static void
elbow_cache_free(void)
{
	if (elbow_cache == NULL)
		return;
	engage_held_bytes -= elbow_cache->bytes;
	MemoryContextDelete(elbow_cache->cxt);
	elbow_cache = NULL;
}

/* Transaction callback: nothing is kept past its transaction */
static void
elbow_cache_xact(XactEvent event, void *arg)
{
	(void) event;
	(void) arg;
	elbow_cache_free();
}

/* Subtransaction callback: free what the ending subtransaction kept */
static void
elbow_cache_subxact(SubXactEvent event, SubTransactionId mySubid,
					SubTransactionId parentSubid, void *arg)
{
	(void) parentSubid;
	(void) arg;
	if (elbow_cache != NULL && elbow_cache->subid == mySubid &&
		(event == SUBXACT_EVENT_COMMIT_SUB || event == SUBXACT_EVENT_ABORT_SUB ||
		 event == SUBXACT_EVENT_PRE_COMMIT_SUB))
		elbow_cache_free();
}

/*
 * run_analysis's points query of run run_id, as it formats it: the key and
 * the three features of the elbow's points (carried: then duration_ms and
 * total_bytes, store_user_clusters's), from the tables of schema nsp.
 */
static char *
run_points_query(Oid nsp, int64 run_id, bool carried)
{
	char	   *schema = get_namespace_name(nsp);

	if (schema == NULL)
		elog(ERROR, "cache lookup failed for namespace %u", nsp);
	return psprintf("SELECT msisdn, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0)%s "
					"FROM %s.result_user_engagement WHERE run_id = " INT64_FORMAT,
					carried ? ", duration_ms, total_bytes" : "",
					quote_identifier(schema), run_id);
}

/*
 * Each point's key (kd's points read with their rows, the key column
 * text, or captured by the per-user step: their keys text) in turn:
 * fn(arg, i, the key's bytes, their length).  The key is read from its
 * row's first column alone (engage_point_key_bytes).
 */
static void
each_point_key(const KmeansData *kd, void (*fn) (void *arg, Size i, const char *key, size_t len),
			   void *arg)
{
	Size		i;

	for (i = 0; i < (Size) kd->pts.n; i++)
	{
		const char *key;
		size_t		len;

		if (kd->pts.rowbuf == NULL)
		{
			/* captured points (run_points.h): text keys, no rows */
			if (i + ENGAGE_PREFETCH_AHEAD < (Size) kd->pts.n)
				engage_prefetch(kd->pts.keys[i + ENGAGE_PREFETCH_AHEAD]);
			key = VARDATA_ANY(kd->pts.keys[i]);
			len = VARSIZE_ANY_EXHDR(kd->pts.keys[i]);
			fn(arg, i, key, len);
			if ((i & 65535) == 0)
				CHECK_FOR_INTERRUPTS();
			continue;
		}
		if (i + ENGAGE_PREFETCH_AHEAD < (Size) kd->pts.n)
			engage_prefetch(kd->pts.rowbuf + kd->pts.rowoff[i + ENGAGE_PREFETCH_AHEAD]);
		key = engage_point_key_bytes(&kd->pts, (int64) i, &len);
		if (key == NULL)
			elog(ERROR, "the key column of the points is not text");
		fn(arg, i, key, len);
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}

/* each_point_key: the sample hash of a key (arg: the cache, its seed) */
static void
hash_point_key(void *arg, Size i, const char *key, size_t len)
{
	ElbowCache *c = (ElbowCache *) arg;

	c->hashes[i] = ecore_sample_hash((uint64_t) c->seed, key, len);
}

/*
 * Keep the points of kd (read with their rows, normalised in place, in
 * canonical order; key column text) for the elbow curve of run run_id with
 * seed, to be taken by store_elbow_curve when its points query is
 * elbow_points and its normalization the one the points had, when they
 * fit within engage.max_memory.  Replaces what was kept before.
 */
static void
elbow_cache_keep(int64 run_id, int64 seed, const char *elbow_points, KmeansData *kd,
				 ecore_scale_method normalization)
{
	Size		n = kd->pts.n;
	int			d = kd->pts.d;
	Size		bytes = n * (d * sizeof(double) + sizeof(uint64_t));
	MemoryContext cxt;
	ElbowCache *c;
	int			j;

	elbow_cache_free();
	if ((double) kd->bytes + (double) bytes > (double) engage_max_memory_kb * 1024.0)
		return;
	if (!elbow_cache_callbacks)
	{
		RegisterXactCallback(elbow_cache_xact, NULL);
		RegisterSubXactCallback(elbow_cache_subxact, NULL);
		elbow_cache_callbacks = true;
	}

	cxt = AllocSetContextCreate(TopMemoryContext, "engage elbow points",
								ALLOCSET_DEFAULT_SIZES);
	c = MemoryContextAllocZero(cxt, sizeof(ElbowCache));
	c->cxt = cxt;
	elbow_cache = c;
	c->run_id = run_id;
	c->seed = seed;
	c->normalization = normalization;
	c->subid = GetCurrentSubTransactionId();
	c->points = MemoryContextStrdup(cxt, elbow_points);
	c->n = n;
	c->d = d;
	c->bytes = bytes;
	engage_held_bytes += bytes;
	c->scaled = MemoryContextAllocHuge(cxt, n * d * sizeof(double));
	memcpy(c->scaled, kd->scaled, n * d * sizeof(double));
	c->feature_names = MemoryContextAlloc(cxt, d * sizeof(char *));
	for (j = 0; j < d; j++)
		c->feature_names[j] = MemoryContextStrdup(cxt, kd->pts.feature_names[j]);

	/* the sample hashes of the keys' text form, as sample_hashes makes them */
	c->hashes = MemoryContextAllocHuge(cxt, n * sizeof(uint64_t));
	each_point_key(kd, hash_point_key, c);
}

/*
 * Keep the points of the split fit of store_user_clusters (mem, their
 * scaler s and the d feature names, all in the memory context cxt) for
 * the elbow curve of run run_id with seed, as elbow_cache_keep keeps
 * points (held: the bytes the call holds besides): cxt becomes the
 * cache's.  When they do not fit within engage.max_memory nothing is kept
 * (cxt stays where it is).
 */
static void
elbow_cache_keep_split(int64 run_id, int64 seed, const char *elbow_points,
					   MemoryContext cxt, const ecore_scaler *sc,
					   const ecore_elbow_memory *mem, char **names,
					   Size bytes, Size held)
{
	ElbowCache *c;
	int			j;

	elbow_cache_free();
	if ((double) held + (double) bytes > (double) engage_max_memory_kb * 1024.0)
		return;
	if (!elbow_cache_callbacks)
	{
		RegisterXactCallback(elbow_cache_xact, NULL);
		RegisterSubXactCallback(elbow_cache_subxact, NULL);
		elbow_cache_callbacks = true;
	}
	MemoryContextSetParent(cxt, TopMemoryContext);
	c = MemoryContextAllocZero(cxt, sizeof(ElbowCache));
	c->cxt = cxt;
	elbow_cache = c;
	c->run_id = run_id;
	c->seed = seed;
	c->normalization = sc->method;
	c->subid = GetCurrentSubTransactionId();
	c->points = MemoryContextStrdup(cxt, elbow_points);
	c->n = (int64) mem->n;
	c->d = (int) mem->d;
	c->bytes = bytes;
	engage_held_bytes += bytes;
	c->scaled = (double *) mem->Z;
	c->hashes = (uint64_t *) mem->hashes;
	c->feature_names = MemoryContextAlloc(cxt, mem->d * sizeof(char *));
	for (j = 0; j < (int) mem->d; j++)
		c->feature_names[j] = MemoryContextStrdup(cxt, names[j]);
	c->split = true;
	c->scaler = *sc;
	c->mem = *mem;
}

/*
 * Take the points kept for the elbow curve of run run_id with seed when the
 * elbow's points query (points) is the one they were kept for and they
 * were kept in the current (sub)transaction: their memory context becomes
 * a child of parent, and they are returned.  Otherwise NULL.  Either way
 * nothing is kept any more.
 */
static ElbowCache *
elbow_cache_take(int64 run_id, int64 seed, const char *points,
				 ecore_scale_method normalization, MemoryContext parent)
{
	ElbowCache *c = elbow_cache;

	if (c == NULL)
		return NULL;
	if (c->run_id != run_id || c->seed != seed || c->normalization != normalization ||
		c->subid != GetCurrentSubTransactionId() ||
		strcmp(points, c->points) != 0)
	{
		elbow_cache_free();
		return NULL;
	}
	MemoryContextSetParent(c->cxt, parent);
	elbow_cache = NULL;
	engage_held_bytes -= c->bytes;
	return c;
}

/* The keys' texts copied by each_point_key (copy_point_key) */
typedef struct KeyCopy
{
	char	  **keys;
	size_t	   *lens;
	char	   *buf;			/* the keys one after the other */
	Size		bytes;			/* used in buf */
	Size		cap;
	Size		held;			/* bytes held besides, for engage.max_memory */
} KeyCopy;

/*
 * each_point_key: a copy of a key at the end of the keys' buffer (in the
 * current memory context); keys[i] is set when the buffer is complete
 * (key_copy_done), since the buffer moves as it grows.
 */
static void
copy_point_key(void *arg, Size i, const char *key, size_t len)
{
	KeyCopy    *kc = (KeyCopy *) arg;

	if (kc->bytes + len > kc->cap)
	{
		Size		cap = Max(kc->cap * 2, kc->bytes + len + 65536);

		engage_check_memory(kc->held + kc->cap, cap - kc->cap);
		kc->buf = kc->buf == NULL ? palloc_extended(cap, MCXT_ALLOC_HUGE) :
			repalloc_huge(kc->buf, cap);
		kc->cap = cap;
	}
	memcpy(kc->buf + kc->bytes, key, len);
	kc->lens[i] = len;
	kc->bytes += len;
}

/* The keys' pointers into the complete buffer of n keys */
static void
key_copy_done(KeyCopy *kc, Size n)
{
	Size		i,
				at = 0;

	if (kc->buf == NULL)
	{
		/* every key empty: still a buffer for the pointers */
		kc->buf = palloc(1);
		kc->cap = 1;
	}
	for (i = 0; i < n; i++)
	{
		kc->keys[i] = kc->buf + at;
		at += kc->lens[i];
	}
}

/*
 * The split fit of store_user_clusters, for the normalizations the split
 * K-means takes: the algorithm of kmeans_fit_sampled(points, k,
 * normalization, seed => seed, in_memory => true) on the points read (kd:
 * in their units, with their rows, in canonical order), so the model of
 * kmeans_fit_sampled on aggregates over the same points, bit for bit (the
 * scaler of the exact sums, the restarts on the sample by sample_hash of
 * the keys, Lloyd steps to a fixed point).  Each point's cluster (1-based
 * order aside) and distance into *labels and *distances, as
 * kmeans_nearest gives them for the model (ecore_kmeans_assign of the
 * normalised point); the model's parts into res and kd->scaler.  The
 * points (their copy in their units, normalised, key texts and sample
 * hashes: mem) are made in held, for the elbow curve; *held_bytes their
 * size.  Without assign, no point is assigned (*labels and *distances
 * NULL): the fit alone.  With o->initial_centroids, these normalised are
 * one more candidate beside the restarts (kmeans_fit_sampled's
 * initial_centroids).
 */
static void
split_user_clusters(const KmeansOptions *o, KmeansData *kd, MemoryContext held,
					ecore_elbow_memory *mem, Size *held_bytes, bool assign,
					int32 **labels, double **distances, ecore_kmeans_result *res)
{
	Size		n = (Size) kd->pts.n;
	int			d = kd->pts.d;
	MemoryContext old;
	double	   *X;
	KeyCopy		kc;
	ecore_fit_params fp;
	ecore_fit_source src;
	ecore_fit_out out;
	size_t		bytes;
	int			rc;

	check_k(o->k, kd->pts.n, "k");
	kmeans_step(kd, KMEANS_STEP_NORMALIZATION, 0);
	engage_check_memory(kd->bytes, n * (d * sizeof(double) + sizeof(char *) + sizeof(size_t)));
	old = MemoryContextSwitchTo(held);
	X = MemoryContextAllocHuge(held, sizeof(double) * n * d);
	memcpy(X, kd->pts.data, sizeof(double) * n * d);
	kc.keys = MemoryContextAllocHuge(held, sizeof(char *) * Max(n, 1));
	kc.lens = MemoryContextAllocHuge(held, sizeof(size_t) * Max(n, 1));
	kc.buf = NULL;
	kc.bytes = 0;
	kc.cap = 0;
	kc.held = kd->bytes + n * (d * sizeof(double) + sizeof(char *) + sizeof(size_t));
	each_point_key(kd, copy_point_key, &kc);
	key_copy_done(&kc, n);
	*held_bytes = n * (d * sizeof(double) + sizeof(char *) + sizeof(size_t)) + kc.cap;
	engage_split_memory(X, n, d, (const char *const *) kc.keys, kc.lens, o->normalization,
						o->seed, &kd->env, kd->bytes + *held_bytes, &kd->scaler, mem);
	*held_bytes += n * (d * sizeof(double) + sizeof(uint64_t));
	MemoryContextSwitchTo(old);
	kd->bytes += *held_bytes;

	/* the fit */
	kmeans_step(kd, KMEANS_STEP_CLUSTERING, o->k);
	engage_split_fit_params(&fp, o->k, o->n_init, o->max_iter, o->seed, o->init,
							true, 0, kd->pts.n);
	if (o->initial_centroids != NULL)
		fp.start = initial_centroids(o, kd);
	rc = ecore_fit_sampled_bytes(n, d, &fp, 1, &bytes);
	if (rc != ECORE_OK)
		core_error(rc, kd);
	engage_check_memory(kd->bytes, bytes + n * (sizeof(int32) + sizeof(double)));
	memset(&src, 0, sizeof(src));
	src.memory = mem;
	memset(&out, 0, sizeof(out));
	out.centroids = palloc(sizeof(double) * o->k * d);
	out.sizes = palloc(sizeof(int64_t) * o->k);
	out.cluster_inertia = palloc(sizeof(double) * o->k);
	rc = ecore_fit_sampled(n, d, &fp, &src, &kd->env, &out);
	if (rc != ECORE_OK)
		core_error(rc, kd);

	/* each point's cluster and distance, as kmeans_nearest (assign) */
	*labels = NULL;
	*distances = NULL;
	if (assign)
	{
		*labels = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * Max(n, 1));
		*distances = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(n, 1));
		rc = ecore_kmeans_assign(mem->Z, n, d, out.centroids, o->k, &kd->env,
								  *labels, *distances);
		if (rc != ECORE_OK)
			core_error(rc, kd);
	}
	memset(res, 0, sizeof(*res));
	res->n = n;
	res->d = d;
	res->k = o->k;
	res->centroids = out.centroids;
	res->labels = *labels;
	res->distances = *distances;
	res->sizes = out.sizes;
	res->cluster_inertia = out.cluster_inertia;
	res->inertia = out.inertia;
	res->iterations = out.iterations;
	res->converged = out.converged;
}

/*
 * store_cluster_model's points of run run_id when the per-user step
 * captured them (run_points.h) and the points query (points) is
 * run_analysis's for the run, which would read back the very rows the
 * capture saw: into pts, as engage_read_point_rows would read them but
 * without the rows (text keys and the data; with canonical, in the
 * canonical order, which does not depend on the order read; else in the
 * order written), with the query's column descriptions (the query
 * prepared, not run: the features' names, the columns' types).  False, and
 * nothing kept any more, otherwise: then the caller reads the query.  The
 * caller must be able to read the table as the query would (SELECT
 * privilege, no row-level security), in the (sub)transaction that
 * captured them.  In the current memory context.
 */
static bool
captured_points(Oid nsp, int64 run_id, const char *points, bool canonical,
				EngagePoints *pts)
{
	MemoryContext cxt = CurrentMemoryContext;
	Oid			relid;
	SPIPlanPtr	plan;
	List	   *sources;
	TupleDesc	desc;
	TimestampTz start;
	int			j;

	relid = get_relname_relid("result_user_engagement", nsp);
	if (strcmp(points, run_points_query(nsp, run_id, false)) != 0 ||
		!OidIsValid(relid) ||
		pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK ||
		check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
	{
		engage_run_points_free();
		return false;
	}
	if (!engage_run_points_take(run_id, cxt, pts))
		return false;
	start = GetCurrentTimestamp();

	/* the query's columns, as its reader would see them */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(points, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	sources = SPI_plan_get_plan_sources(plan);
	if (list_length(sources) != 1 ||
		((CachedPlanSource *) linitial(sources))->resultDesc == NULL)
		elog(ERROR, "the points query of run " INT64_FORMAT " returns no rows", run_id);
	desc = ((CachedPlanSource *) linitial(sources))->resultDesc;
	if (desc->natts != ENGAGE_RUN_POINTS_D + 1)
		elog(ERROR, "the points query of run " INT64_FORMAT " returns %d columns",
			 run_id, desc->natts);
	pts->tupdesc = CreateTupleDescCopy(desc);
	pts->feature_names = MemoryContextAlloc(cxt, sizeof(char *) * pts->d);
	for (j = 0; j < pts->d; j++)
		pts->feature_names[j] = MemoryContextStrdup(cxt,
													NameStr(TupleDescAttr(desc, j + 1)->attname));
	SPI_finish();
	pts->keyout = MemoryContextAlloc(cxt, sizeof(FmgrInfo));
	fmgr_info_cxt(F_TEXTOUT, pts->keyout, cxt);
	if (canonical)
		engage_order_points(pts, NULL);
	engage_progress_notice(start, "store_cluster_model: " INT64_FORMAT " points captured by the per-user step%s",
						   pts->n, canonical ? ", in canonical order" : "");
	return true;
}

/* The columns of store_user_clusters's points query */
#define UC_QUERY_NATTS		6
/* The columns of store_cluster_model's points query */
#define CM_QUERY_NATTS		4
/* engage.result_user_cluster's columns */
#define UC_TABLE_NATTS		7

/*
 * The fit of run_analysis's K-means step, shared by store_user_clusters
 * (write true) and store_cluster_model (write false): kmeans_cluster_rows's
 * clustering of the points query (fcinfo's argument 1) with k and seed
 * (normalization zscore, or an optional fifth argument normalization,
 * n_init 10, max_iter 300, tol 0, k-means++, the 3 features after the
 * key), from one read; the split K-means' fit when it takes the
 * normalization and k.  With an optional sixth argument initial_centroids
 * (k x 3, the features' units; NULL: none), these centroids are one more
 * candidate beside the restarts: in the split fit as kmeans_fit_sampled's
 * initial_centroids, else a fit from them (init given) kept when its
 * inertia is lower than the restarts' (theirs on a tie).  With write, each
 * user's row is written in bulk into engage.result_user_cluster (see
 * store_user_clusters); either way the normalised points are kept for
 * store_elbow_curve.  Returns the model.
 */
static Datum
fit_user_clusters(FunctionCallInfo fcinfo, bool write)
{
	static const Oid query_types[UC_QUERY_NATTS] = {
		TEXTOID, INT8OID, InvalidOid, InvalidOid, NUMERICOID, NUMERICOID
	};
	static const Oid table_types[UC_TABLE_NATTS] = {
		INT8OID, TEXTOID, INT4OID, FLOAT8OID, INT8OID, NUMERICOID, NUMERICOID
	};
	const char *function = write ? "store_user_clusters" : "store_cluster_model";
	int			natts = write ? UC_QUERY_NATTS : CM_QUERY_NATTS;
	Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
	KmeansOptions o;
	KmeansData	kd;
	ecore_kmeans_result res;
	EngageBulkWriter writer;
	MemoryContext scratch;
	MemoryContext caller = CurrentMemoryContext;
	TupleDesc	tupdesc;
	TupleDesc	qdesc;
	double	   *original;
	HeapTuple	model;
	Datum	   *values;
	bool	   *nulls;
	int64		run_id;
	int64		i;
	int			j;
	bool		split;
	MemoryContext held = NULL;
	ecore_elbow_memory mem;
	Size		held_bytes = 0;
	int32	   *labels;
	double	   *distances;

	engage_require_arg(fcinfo, 0, "run_id");
	engage_require_arg(fcinfo, 1, "points");
	engage_require_arg(fcinfo, 2, "k");
	engage_require_arg(fcinfo, 3, "seed");
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	run_id = PG_GETARG_INT64(0);
	memset(&o, 0, sizeof(o));
	o.points = text_to_cstring(PG_GETARG_TEXT_PP(1));
	o.k = PG_GETARG_INT32(2);
	o.seed = PG_GETARG_INT64(3);
	/* an optional fifth argument, normalization (NULL or absent: zscore) */
	o.normalization = (PG_NARGS() > 4 && !PG_ARGISNULL(4)) ?
		parse_normalization(text_to_cstring(PG_GETARG_TEXT_PP(4))) : ECORE_SCALE_ZSCORE;
	o.n_init = 10;
	o.max_iter = 300;
	o.tol = 0.0;
	o.init = ECORE_INIT_KMEANSPP;
	/* an optional sixth argument, the initial centroids (NULL: none) */
	o.initial_centroids = (PG_NARGS() > 5 && !PG_ARGISNULL(5)) ?
		PG_GETARG_ARRAYTYPE_P(5) : NULL;
	o.rows = true;
	o.features = 3;
	o.row_desc = NULL;
	check_k(o.k, -1, "k");
	/*
	 * one node: the split K-means' algorithm when it takes the
	 * normalization and k (at most ECORE_KSTEP_MAX_K clusters)
	 */
	split = engage_split_normalization(o.normalization) &&
		o.k <= ECORE_KSTEP_MAX_K;

	/* the table first: no clustering for a caller who may not write it */
	scratch = scratch_context("engage store_user_clusters");
	MemoryContextSwitchTo(scratch);
	if (write)
		engage_bulk_open(&writer, nsp, "result_user_cluster", UC_TABLE_NATTS, table_types,
						 "users' clusters");

	/* the points with their rows, normalised, and the clustering */
	kmeans_begin(&kd, function);
	kmeans_step(&kd, KMEANS_STEP_POINTS, 0);
	/*
	 * store_cluster_model: the points the per-user step captured, if any.
	 * The split fit needs no order: its sums are exact, its sample and
	 * restarts are chosen by sample hash, key and features, its Lloyd steps
	 * go to a fixed point (kmeans_fit_sampled gives the same bits from
	 * aggregates that shards add up in any order), and so is the elbow
	 * curve that store_elbow_curve draws from the points it keeps; the
	 * capture holds no point that the fit would report (run_points.c), so
	 * no message depends on the order either.
	 */
	if (write)
		engage_run_points_free();	/* not of use: its memory back */
	if (write || !captured_points(nsp, run_id, o.points, !split, &kd.pts))
		engage_read_point_rows(o.points, o.features, &kd.pts);
	qdesc = kd.pts.tupdesc;
	if (qdesc->natts != natts)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the points query of %s must return %d columns", function, natts),
				 errdetail("It returns %d.", qdesc->natts)));
	for (j = 0; j < natts; j++)
		if (OidIsValid(query_types[j]) &&
			TupleDescAttr(qdesc, j)->atttypid != query_types[j])
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column %d of the points query of %s is %s, not %s",
							j + 1, function, format_type_be(TupleDescAttr(qdesc, j)->atttypid),
							format_type_be(query_types[j])),
					 write ?
					 errhint("The columns are: msisdn text, sessions bigint, the duration and traffic features, duration_ms numeric and total_bytes numeric.") :
					 errhint("The columns are: msisdn text, sessions bigint, the duration and traffic features.")));
	kd.bytes = kd.pts.bytes;
	kmeans_step(&kd, KMEANS_STEP_NONE, 0);
	if (split)
	{
		held = AllocSetContextCreate(scratch, "engage split points",
									 ALLOCSET_DEFAULT_SIZES);
		split_user_clusters(&o, &kd, held, &mem, &held_bytes, write, &labels, &distances,
							&res);
	}
	else
	{
		apply_normalization(&kd, o.normalization);
		check_k(o.k, kd.pts.n, "k");
		fit_kmeans(&o, &kd, o.k, NULL, &res);
		if (o.initial_centroids != NULL)
		{
			ecore_kmeans_result from_start;

			memset(&from_start, 0, sizeof(from_start));
			fit_kmeans(&o, &kd, o.k, initial_centroids(&o, &kd), &from_start);
			if (from_start.inertia < res.inertia)
				res = from_start;
		}
		labels = res.labels;
		distances = res.distances;
	}
	kmeans_end(&kd);

	/* each user's row, in bulk */
	if (write)
	{
		writer.cid = GetCurrentCommandId(true);
		values = palloc(sizeof(Datum) * UC_QUERY_NATTS);
		nulls = palloc(sizeof(bool) * UC_QUERY_NATTS);
		for (i = 0; i < kd.pts.n; i++)
		{
			TupleTableSlot *slot;

			if (i + ENGAGE_PREFETCH_AHEAD < kd.pts.n)
				engage_prefetch(kd.pts.rowbuf + kd.pts.rowoff[i + ENGAGE_PREFETCH_AHEAD]);
			engage_point_row(&kd.pts, i, values, nulls);
			slot = engage_bulk_slot(&writer);
			slot->tts_values[0] = Int64GetDatum(run_id);
			slot->tts_isnull[0] = false;
			slot->tts_values[1] = values[0];
			slot->tts_isnull[1] = nulls[0];
			slot->tts_values[2] = Int32GetDatum(labels[i] + 1);
			slot->tts_isnull[2] = false;
			slot->tts_values[3] = Float8GetDatum(distances[i]);
			slot->tts_isnull[3] = false;
			slot->tts_values[4] = values[1];
			slot->tts_isnull[4] = nulls[1];
			slot->tts_values[5] = values[4];
			slot->tts_isnull[5] = nulls[4];
			slot->tts_values[6] = values[5];
			slot->tts_isnull[6] = nulls[5];
			engage_bulk_add(&writer);
		}
		engage_bulk_close(&writer);
	}

	/*
	 * The points, for run_analysis's elbow curve (store_elbow_curve): the
	 * elbow's points query is run_analysis's for the run (store_user_clusters
	 * on the run's own query), or the very query read (store_cluster_model)
	 */
	if (!write && split)
		elbow_cache_keep_split(run_id, o.seed, o.points, held, &kd.scaler, &mem,
							   kd.pts.feature_names, held_bytes, kd.bytes - held_bytes);
	else if (!write)
		elbow_cache_keep(run_id, o.seed, o.points, &kd, o.normalization);
	else if (strcmp(o.points, run_points_query(nsp, run_id, true)) != 0)
		elbow_cache_free();
	else if (split)
		elbow_cache_keep_split(run_id, o.seed, run_points_query(nsp, run_id, false), held,
							   &kd.scaler, &mem, kd.pts.feature_names, held_bytes,
							   kd.bytes - held_bytes);
	else
		elbow_cache_keep(run_id, o.seed, run_points_query(nsp, run_id, false), &kd,
						 o.normalization);

	/* the model, in the caller's context */
	original = palloc(sizeof(double) * o.k * kd.pts.d);
	if (ecore_scaler_inverse_transform(&kd.scaler, res.centroids, o.k,
										original, &kd.env) != ECORE_OK)
		elog(ERROR, "inverse transform of the centroids failed");
	MemoryContextSwitchTo(caller);
	model = model_tuple(BlessTupleDesc(tupdesc), &o, &kd, &res, original);
	MemoryContextDelete(scratch);
	PG_RETURN_DATUM(HeapTupleGetDatum(model));
}

/*
 * engage.store_user_clusters(run_id, points, k, seed): the K-means step of
 * run_analysis on one node.  kmeans_cluster_rows's clustering of the points
 * query with k and seed (normalization zscore, n_init 10, max_iter 300, tol
 * 0, k-means++, the 3 features after the key), from one read, each user's
 * row written in bulk (bulk_write.c) into engage.result_user_cluster under
 * run_id: the key (msisdn), the cluster (1..k), the distance, the second
 * column (sessions) and the last two (the stored duration_ms and
 * total_bytes, NULLs included), in the canonical order.  The points query
 * returns msisdn text, sessions bigint, the duration and traffic features
 * (numeric types), duration_ms numeric and total_bytes numeric.  Returns
 * the model (engage.kmeans_model, as kmeans_model returns it).  Internal to
 * run_analysis; the caller needs INSERT on the table, which must have no
 * triggers and no row-level security.
 */
PG_FUNCTION_INFO_V1(engage_store_user_clusters);
Datum
engage_store_user_clusters(PG_FUNCTION_ARGS)
{
	return fit_user_clusters(fcinfo, true);
}

/*
 * engage.store_cluster_model(run_id, points, k, seed): the fit of
 * store_user_clusters on the points query (msisdn text, sessions bigint,
 * the duration and traffic features), bit for bit, without writing
 * anything (k up to 1000: the split K-means in memory; above:
 * kmeans_cluster_rows's).  run_analysis's K-means step on one node with k
 * up to 1000 (each user's cluster then computed where it is read, by
 * kmeans_nearest of the model), and on a Citus source with k above 1000
 * (each user assigned on the workers, kmeans_nearest in a pushed-down
 * INSERT ... SELECT).  The points are kept for store_elbow_curve(run_id,
 * points, ...) with the same query, seed and normalization in the same
 * (sub)transaction.  Returns the model.  Internal to run_analysis.
 */
PG_FUNCTION_INFO_V1(engage_store_cluster_model);
Datum
engage_store_cluster_model(PG_FUNCTION_ARGS)
{
	return fit_user_clusters(fcinfo, false);
}

/* Get a float8[] attribute of a model, checking its shape */
static double *
model_array(HeapTupleHeader model, const char *name, int ndim, int *dims)
{
	bool		isnull;
	Datum		value = GetAttributeByName(model, name, &isnull);
	ArrayType  *arr;
	int			i;

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
	/* a model made by kmeans_model has finite values and no zero scale */
	for (i = 0; i < ArrayGetNItems(ndim, dims); i++)
	{
		double		v = ((double *) ARR_DATA_PTR(arr))[i];

		if (!isfinite(v) ||
			(strcmp(name, "centroids_normalized") == 0 && fabs(v) > ECORE_MAX_ABS_CENTROID) ||
			(strcmp(name, "scale") == 0 && v == 0.0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the model's %s has an invalid element %g", name, v),
					 errhint("Use a model made by engage.kmeans_model.")));
	}
	return (double *) ARR_DATA_PTR(arr);
}

/*
 * The scaler (scale and shift) and the k x d normalised centroids of a
 * model made by kmeans_model, checked.
 */
static void
model_read(HeapTupleHeader model, ecore_scaler *s, double **centroids, int *k)
{
	bool		isnull;
	Datum		method;
	int			dims[2];
	int			d;

	memset(s, 0, sizeof(*s));
	s->scale = model_array(model, "scale", 1, dims);
	d = dims[0];
	s->offset = model_array(model, "shift", 1, dims);
	if (dims[0] != d)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the model's scale and shift differ in length")));
	*centroids = model_array(model, "centroids_normalized", 2, dims);
	*k = dims[0];
	if (dims[1] != d || *k < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the model's centroids do not have %d features", d)));
	method = GetAttributeByName(model, "normalization", &isnull);
	if (isnull ||
		ecore_scale_method_parse_all(TextDatumGetCString(method), &s->method) != ECORE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the model's normalization is not \"zscore\", \"minmax\", \"log\", \"robust\" or \"none\"")));
	s->d = d;
	/* the transform reads only scale and shift; the fit's statistics are not kept */
	s->mean = s->var = s->data_min = s->data_max = s->scale;
}

/*
 * The error of normalising or assigning one point under a model
 * (kmeans_predict, kmeans_nearest, user_cluster): rc of
 * ecore_scaler_transform or ecore_kmeans_assign, env's feature.
 */
static void
check_point_rc(int rc, const ecore_env *env)
{
	if (rc == ECORE_ENEGATIVE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_ARGUMENT_FOR_LOG),
				 errmsg("feature %zu is negative", env->error_col + 1),
				 errdetail("The model's log normalization takes log(1 + x) of every feature, which needs x >= 0.")));
	if (rc == ECORE_ENONFINITE)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("feature %zu is not finite", env->error_col + 1)));
	if (rc == ECORE_ERANGE)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("feature %zu is too large", env->error_col + 1),
				 errdetail("Normalized, features must be at most 1e100 in magnitude.")));
	if (rc != ECORE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", ecore_strerror(rc))));
}

/*
 * kmeans_predict(model, features float8[]): the cluster (1..k) of a new
 * point: normalised as the model's points were, nearest centroid (ties:
 * lowest cluster).  NULL features give NULL.
 */
PG_FUNCTION_INFO_V1(engage_kmeans_predict);
Datum
engage_kmeans_predict(PG_FUNCTION_ARGS)
{
	HeapTupleHeader model;
	ArrayType  *x;
	ecore_scaler s;
	ecore_env	env;
	int			d;
	int			k;
	double	   *centroids;
	double	   *point;
	int32_t		label;
	int			rc;

	engage_require_arg(fcinfo, 0, "model");
	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	model = PG_GETARG_HEAPTUPLEHEADER(0);
	x = PG_GETARG_ARRAYTYPE_P(1);

	memset(&env, 0, sizeof(env));
	model_read(model, &s, &centroids, &k);
	d = s.d;

	if (ARR_ELEMTYPE(x) != FLOAT8OID || ARR_NDIM(x) != 1 || ARR_DIMS(x)[0] != d)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("features must be a double precision[] of %d elements", d)));
	if (ARR_HASNULL(x) && array_contains_nulls(x))
		PG_RETURN_NULL();

	point = palloc(sizeof(double) * d);
	rc = ecore_scaler_transform(&s, (double *) ARR_DATA_PTR(x), 1, point, &env);
	if (rc == ECORE_OK)
		rc = ecore_kmeans_assign(point, 1, d, centroids, k, &env, &label, NULL);
	check_point_rc(rc, &env);
	PG_RETURN_INT32(label + 1);
}

/*
 * A model read by kmeans_nearest, kept in fn_extra across the calls of one
 * query: the model's bytes (to recognise it) and what model_read gives.
 */
typedef struct NearestCache
{
	Size		len;
	char	   *bytes;			/* the model's datum, flattened */
	ecore_scaler scaler;
	double	   *centroids;		/* k x d, normalised */
	int			k;
	TupleDesc	tupdesc;		/* kmeans_nearest's result row, blessed */
	double	   *point;			/* d: a point, normalised */
} NearestCache;

/*
 * The model of a kmeans_nearest call, read once per query: a model equal,
 * byte for byte, to the last one is not read and checked again (a
 * pushed-down INSERT ... SELECT passes the same constant on every row, a
 * view the run's stored model on every row of the run).  The result's row
 * type and a point's buffer are made once too.
 */
static NearestCache *
nearest_model(FunctionCallInfo fcinfo, HeapTupleHeader model)
{
	NearestCache *c = (NearestCache *) fcinfo->flinfo->fn_extra;
	Size		len = HeapTupleHeaderGetDatumLength(model);
	MemoryContext old;
	HeapTupleHeader copy;
	ecore_scaler s;
	double	   *centroids;
	int			k;

	if (c != NULL && c->len == len && memcmp(c->bytes, model, len) == 0)
		return c;
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	if (c == NULL)
	{
		TupleDesc	tupdesc;

		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		c = palloc0(sizeof(NearestCache));
		c->tupdesc = BlessTupleDesc(CreateTupleDescCopy(tupdesc));
	}
	else
	{
		pfree(c->bytes);
		c->bytes = NULL;
		if (c->point != NULL)
			pfree(c->point);
		c->point = NULL;
	}
	c->len = 0;
	fcinfo->flinfo->fn_extra = c;
	copy = palloc(len);
	memcpy(copy, model, len);
	c->bytes = (char *) copy;
	/* the scaler and the centroids point into the copy, which is kept */
	model_read(copy, &s, &centroids, &k);
	c->point = palloc(sizeof(double) * s.d);
	c->len = len;
	c->scaler = s;
	c->centroids = centroids;
	c->k = k;
	MemoryContextSwitchTo(old);
	return c;
}

/*
 * The cluster (0-based) and distance of a point (features: the model's d
 * features in their units) under the model of c, as kmeans_predict and
 * kmeans_nearest give them; errors for a point the model cannot take.
 */
static void
nearest_point(NearestCache *c, const double *features, int32_t *label, double *distance)
{
	ecore_env	env;
	int			rc;

	memset(&env, 0, sizeof(env));
	rc = ecore_scaler_transform(&c->scaler, features, 1, c->point, &env);
	if (rc == ECORE_OK)
		rc = ecore_kmeans_assign(c->point, 1, c->scaler.d, c->centroids, c->k, &env,
								  label, distance);
	check_point_rc(rc, &env);
}

/*
 * kmeans_nearest(model, features float8[]): the cluster (1..k) of a point
 * under a model, as kmeans_predict gives it, and the Euclidean distance to
 * that centroid in the normalised space.  On the points a model was fitted
 * on, each point's cluster and distance as the fit gave them, bit for bit
 * (the fit's last pass is this assignment).  NULL features give NULLs.
 */
PG_FUNCTION_INFO_V1(engage_kmeans_nearest);
Datum
engage_kmeans_nearest(PG_FUNCTION_ARGS)
{
	NearestCache *c;
	ArrayType  *x;
	TupleDesc	tupdesc;
	int32_t		label;
	double		distance;
	Datum		values[2];
	bool		nulls[2] = {true, true};
	int			d;

	engage_require_arg(fcinfo, 0, "model");
	c = nearest_model(fcinfo, PG_GETARG_HEAPTUPLEHEADER(0));
	tupdesc = c->tupdesc;
	d = c->scaler.d;
	if (PG_ARGISNULL(1))
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
	x = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_ELEMTYPE(x) != FLOAT8OID || ARR_NDIM(x) != 1 || ARR_DIMS(x)[0] != d)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("features must be a double precision[] of %d elements", d)));
	if (ARR_HASNULL(x) && array_contains_nulls(x))
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));

	nearest_point(c, (double *) ARR_DATA_PTR(x), &label, &distance);
	values[0] = Int32GetDatum(label + 1);
	values[1] = Float8GetDatum(distance);
	nulls[0] = nulls[1] = false;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * user_cluster(model, sessions bigint, duration_ms numeric, total_bytes
 * numeric): the cluster (1..k) and distance of a user's row of
 * result_user_engagement under a run's model (3 features), what
 * kmeans_nearest(model, ARRAY[sessions, COALESCE(duration_ms, 0),
 * COALESCE(total_bytes, 0)]::float8[]) gives, bit for bit, and what the
 * run's fit gave the user: the numerics converted as the fit's points
 * query is read (engage_numeric_to_double: numeric_float8's double without
 * the text for integers up to 2^53), no array made.  The views and
 * run_analysis compute the clusters of a run that did not store them with
 * it (engage.run.clusters_on_read).  NULL sessions give NULLs.
 */
PG_FUNCTION_INFO_V1(engage_user_cluster);
Datum
engage_user_cluster(PG_FUNCTION_ARGS)
{
	NearestCache *c;
	double		features[3];
	int32_t		label;
	double		distance;
	Datum		values[2];
	bool		nulls[2] = {true, true};

	engage_require_arg(fcinfo, 0, "model");
	c = nearest_model(fcinfo, PG_GETARG_HEAPTUPLEHEADER(0));
	if (c->scaler.d != 3)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg_plural("the model has %zu feature, not 3",
							   "the model has %zu features, not 3",
							   c->scaler.d, c->scaler.d),
				 errhint("user_cluster takes the model of an analysis run (engage.run.cluster_model): sessions, duration and traffic.")));
	if (PG_ARGISNULL(1))
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(c->tupdesc, values, nulls)));
	features[0] = (double) PG_GETARG_INT64(1);
	features[1] = PG_ARGISNULL(2) ? 0.0 : engage_numeric_to_double(PG_GETARG_DATUM(2));
	features[2] = PG_ARGISNULL(3) ? 0.0 : engage_numeric_to_double(PG_GETARG_DATUM(3));
	nearest_point(c, features, &label, &distance);
	values[0] = Int32GetDatum(label + 1);
	values[1] = Float8GetDatum(distance);
	nulls[0] = nulls[1] = false;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(c->tupdesc, values, nulls)));
}

/* A batch of captured points assigned under a run's model */
typedef struct CapturedAssign
{
	NearestCache *model;
	double	   *normalised;		/* room x 3 */
	int			room;
} CapturedAssign;

/*
 * EngageRunAssign for captured_cluster_sums: each point's cluster as
 * user_cluster gives it (the scaler's transform, then the nearest
 * centroid; both point by point, whatever the batch)
 */
static void
captured_assign(void *arg, const double *x, int n, int32 *labels)
{
	CapturedAssign *a = (CapturedAssign *) arg;
	NearestCache *c = a->model;
	ecore_env	env;
	int			rc;

	if (n > a->room)
	{
		if (a->normalised != NULL)
			pfree(a->normalised);
		a->normalised = palloc(sizeof(double) * c->scaler.d * n);
		a->room = n;
	}
	memset(&env, 0, sizeof(env));
	rc = ecore_scaler_transform(&c->scaler, x, n, a->normalised, &env);
	if (rc == ECORE_OK)
		rc = ecore_kmeans_assign(a->normalised, n, c->scaler.d, c->centroids, c->k,
								  &env, labels, NULL);
	check_point_rc(rc, &env);
}

/*
 * captured_cluster_sums(run_id, model): run_analysis's cluster statistics
 * of run run_id (count, min, max, avg and sum of sessions, duration_ms and
 * total_bytes, the counts of the non-NULL ones, the sum of the hours
 * histograms), one row per cluster with users, from the rows that the
 * run's per-user step (store_user_engagement) kept in this
 * (sub)transaction as it wrote them (run_points.h), each user's cluster
 * user_cluster's under the model: what the statistics' SQL computes from
 * the run's rows of result_user_engagement, without reading them back.
 * Once: no rows when nothing was kept (another run, another transaction,
 * a value that is not an integer up to 2^53, engage.max_memory), or after
 * the first call; run_analysis then reads the table.  The caller must be
 * able to read result_user_engagement as that SQL would (SELECT privilege,
 * no row-level security).
 */
PG_FUNCTION_INFO_V1(engage_captured_cluster_sums);
Datum
engage_captured_cluster_sums(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
	Oid			relid;
	CapturedAssign a;
	RunClusterStats *stats;
	TimestampTz start;
	int64		run_id;
	int64		users = 0;
	int			j;

	engage_require_arg(fcinfo, 0, "run_id");
	engage_require_arg(fcinfo, 1, "model");
	run_id = PG_GETARG_INT64(0);
	memset(&a, 0, sizeof(a));
	a.model = nearest_model(fcinfo, PG_GETARG_HEAPTUPLEHEADER(1));
	if (a.model->scaler.d != 3)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg_plural("the model has %zu feature, not 3",
							   "the model has %zu features, not 3",
							   a.model->scaler.d, a.model->scaler.d),
				 errhint("captured_cluster_sums takes the model of an analysis run (engage.run.cluster_model): sessions, duration and traffic.")));
	InitMaterializedSRF(fcinfo, 0);
	relid = get_relname_relid("result_user_engagement", nsp);
	if (!OidIsValid(relid) ||
		pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK ||
		check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		PG_RETURN_VOID();
	start = GetCurrentTimestamp();
	stats = palloc(sizeof(RunClusterStats) * a.model->k);
	if (!engage_run_stats_sums(run_id, a.model->k, captured_assign, &a, stats))
		PG_RETURN_VOID();
	for (j = 0; j < a.model->k; j++)
		users += stats[j].users;
	engage_progress_notice(start, "captured_cluster_sums: " INT64_FORMAT " users kept by the per-user step, by cluster",
						   users);
	for (j = 0; j < a.model->k; j++)
	{
		Datum		values[ENGAGE_RUN_STATS_NATTS];
		bool		nulls[ENGAGE_RUN_STATS_NATTS];

		if (stats[j].users == 0)
			continue;			/* as GROUP BY: no row for an empty cluster */
		engage_run_stats_row(&stats[j], j + 1, values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_VOID();
}

/*
 * kmeans_assign(model, points): every point of the points query assigned
 * with a model made by kmeans_model, as kmeans_predict would, in one pass:
 * key, cluster (1..k) and Euclidean distance to its centroid in the
 * normalised space.  With the points the model was fitted on, this is
 * kmeans_cluster's result without fitting again.
 */
PG_FUNCTION_INFO_V1(engage_kmeans_assign);
Datum
engage_kmeans_assign(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	KmeansData	kd;
	MemoryContext scratch;
	MemoryContext old;
	char	   *points;
	double	   *centroids;
	int			k;
	int32_t    *labels;
	double	   *distances;
	Size		n;
	int			rc;

	engage_require_arg(fcinfo, 0, "model");
	engage_require_arg(fcinfo, 1, "points");
	InitMaterializedSRF(fcinfo, 0);
	points = text_to_cstring(PG_GETARG_TEXT_PP(1));

	scratch = scratch_context("engage kmeans_assign");
	old = MemoryContextSwitchTo(scratch);
	kmeans_begin(&kd, "kmeans_assign");
	model_read(PG_GETARG_HEAPTUPLEHEADER(0), &kd.scaler, &centroids, &k);

	/* the points, in the query's order: each is assigned alone */
	kmeans_step(&kd, KMEANS_STEP_POINTS, 0);
	engage_read_points(points, ENGAGE_POINTS_QUERY_ORDER, &kd.pts);
	kmeans_step(&kd, KMEANS_STEP_NONE, 0);
	if ((size_t) kd.pts.d != kd.scaler.d)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg_plural("the points query has %d feature, the model %zu",
							   "the points query has %d features, the model %zu",
							   kd.pts.d, kd.pts.d, kd.scaler.d)));

	/* normalised with the model's scaler, and assigned */
	kmeans_step(&kd, KMEANS_STEP_ASSIGNMENT, 0);
	n = kd.pts.n;
	engage_check_memory(kd.pts.bytes,
						n * (kd.pts.d * sizeof(double) + sizeof(int32_t) + sizeof(double)));
	kd.scaled = MemoryContextAllocHuge(scratch, n * kd.pts.d * sizeof(double));
	labels = MemoryContextAllocHuge(scratch, n * sizeof(int32_t));
	distances = MemoryContextAllocHuge(scratch, n * sizeof(double));
	rc = ecore_scaler_transform(&kd.scaler, kd.pts.data, n, kd.scaled, &kd.env);
	if (rc == ECORE_OK)
		rc = ecore_kmeans_assign(kd.scaled, n, kd.pts.d, centroids, k, &kd.env,
								  labels, distances);
	if (rc != ECORE_OK)
		core_error(rc, &kd);
	kmeans_end(&kd);
	MemoryContextSwitchTo(old);

	put_assignments(rsinfo, &kd.pts, labels, distances);
	MemoryContextDelete(scratch);
	return (Datum) 0;
}

/*
 * The hashes that choose elbow_inertia's sample: ecore_sample_hash of each
 * point's key (its text form), with the seed.  The points are in canonical
 * order, so the sample does not depend on the order of the rows.
 */
static uint64_t *
sample_hashes(KmeansData *kd, uint64_t seed)
{
	Size		n = kd->pts.n;
	uint64_t   *h;
	Size		i;

	engage_check_memory(kd->bytes, n * sizeof(uint64_t));
	h = MemoryContextAllocHuge(CurrentMemoryContext, n * sizeof(uint64_t));
	for (i = 0; i < n; i++)
	{
		const text *key = kd->pts.keys[i];

		h[i] = ecore_sample_hash(seed, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	kd->bytes += n * sizeof(uint64_t);
	return h;
}

/* Where an elbow curve started, for its progress NOTICEs */
typedef struct ElbowProgress
{
	TimestampTz start;
	int			k_min;
} ElbowProgress;

/*
 * ecore_elbow_params.progress: with engage.progress on, a NOTICE after each
 * k of the curve (a 10-minute curve on a big table shows it move)
 */
static void
elbow_progress(void *arg, int k, int k_max)
{
	const ElbowProgress *p = (const ElbowProgress *) arg;

	engage_progress_notice(p->start, "elbow curve: k = %d of %d..%d done",
						   k, p->k_min, k_max);
}

/*
 * Check the k range and the sample of an elbow curve (sample is ignored
 * when auto_sample: the SQL sample is NULL).
 */
static void
check_elbow_args(int k_min, int k_max, bool auto_sample, int32 sample)
{
	check_k(k_min, -1, "k_min");
	check_k(k_max, -1, "k_max");
	if (k_max < k_min)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k_max (%d) is less than k_min (%d)", k_max, k_min)));
	if (auto_sample)
		return;
	if (sample < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sample must be at least 0, not %d", sample),
				 errhint("Pass 0 for the restarts on every point, NULL to let elbow_inertia choose.")));
	if (sample > 0 && sample < k_max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sample (%d) is less than k_max (%d)", sample, k_max),
				 errhint("A sample must hold at least k_max points.")));
}

/*
 * Columns of elbow_inertia's rows: store_elbow_curve's seven, then
 * davies_bouldin and calinski_harabasz
 */
#define ELBOW_NATTS 9

/*
 * The elbow curve of elbow_inertia and store_elbow_curve, from the points
 * in kd (n, d, the normalised points in canonical order, the feature
 * names; kd begun in the scratch context, which is current): k_min..k_max
 * with the options o (normalization aside) and the sample (auto_sample:
 * elbow_inertia's choice), the rows into the SRF's tuplestore.  hashes: the
 * sample hashes of the points for o->seed, or NULL to compute them from
 * the points' keys.  When the rows have ELBOW_NATTS columns
 * (elbow_inertia's), each k's Davies-Bouldin and Calinski-Harabasz indexes
 * are computed and returned too; store_elbow_curve's seven columns go
 * without them.  Ends kd's work; the caller's context (caller) is current
 * on return.
 */
static void
elbow_curve_rows(ReturnSetInfo *rsinfo, const KmeansOptions *o, KmeansData *kd,
				 int k_min, int k_max, bool auto_sample, int32 sample,
				 const uint64_t *hashes, MemoryContext caller)
{
	ecore_elbow_params ep;
	ecore_elbow_out out;
	int			nk;
	int			k;
	double	   *xs;
	ArrayType **centroids;
	size_t		bytes;
	long		knee = -1;
	ElbowProgress progress;
	bool		scores = (rsinfo->setDesc->natts >= ELBOW_NATTS);
	size_t		score_doubles = 0;
	int			rc;

	check_k(k_max, kd->pts.n, "k_max");

	ecore_elbow_params_default(&ep);
	ep.km.init = o->init;
	ep.km.n_init = o->n_init;
	ep.km.max_iter = o->max_iter;
	ep.km.tol = o->tol;
	ep.km.seed = (uint64_t) o->seed;
	ep.km.n_threads = engage_threads;
	ep.k_min = k_min;
	ep.k_max = k_max;
	if (auto_sample)
		ep.sample = kd->pts.n > ECORE_ELBOW_AUTO_EXACT_MAX ? ECORE_ELBOW_AUTO_SAMPLE : 0;
	else
		ep.sample = (size_t) sample;
	if (ep.sample > 0 && ep.sample < (size_t) kd->pts.n)
		ep.hashes = hashes != NULL ? hashes : sample_hashes(kd, ep.km.seed);
	else
		ep.sample = 0;			/* the exact path: every point */

	nk = k_max - k_min + 1;
	kmeans_step(kd, KMEANS_STEP_CLUSTERING, k_min);
	rc = ecore_elbow_curve_bytes(kd->pts.n, kd->pts.d, &ep, &bytes);
	if (rc != ECORE_OK)
		core_error(rc, kd);
	/* the core's block, then the nk x k_max x d centroids it returns */
	engage_check_memory(kd->bytes, bytes);
	engage_check_memory(kd->bytes + bytes,
						(Size) ((double) nk * k_max * kd->pts.d * sizeof(double)));
	/* elbow_inertia's scores: their work space */
	if (scores)
	{
		rc = ecore_cluster_scores_work(k_max, kd->pts.d, &score_doubles);
		if (rc != ECORE_OK)
			core_error(rc, kd);
		engage_check_memory(kd->bytes + bytes +
							(Size) ((double) nk * k_max * kd->pts.d * sizeof(double)),
							score_doubles * sizeof(double));
	}
	memset(&out, 0, sizeof(out));
	if (scores)
	{
		out.davies_bouldin = palloc(sizeof(double) * nk);
		out.calinski_harabasz = palloc(sizeof(double) * nk);
		out.score_work = MemoryContextAllocHuge(CurrentMemoryContext,
												score_doubles * sizeof(double));
	}
	out.inertia = palloc(sizeof(double) * nk);
	out.silhouette = palloc(sizeof(double) * nk);
	out.iterations = palloc(sizeof(int) * nk);
	out.centroids = MemoryContextAllocHuge(CurrentMemoryContext,
										   sizeof(double) * (Size) nk * k_max * kd->pts.d);
	xs = palloc(sizeof(double) * nk);
	centroids = palloc(sizeof(ArrayType *) * nk);

	if (engage_progress)
	{
		progress.start = GetCurrentTimestamp();
		progress.k_min = k_min;
		ep.progress = elbow_progress;
		ep.progress_arg = &progress;
	}
	out.k = k_min;
	kd->elbow = &out;
	rc = ecore_elbow_curve(kd->scaled, kd->pts.n, kd->pts.d, &ep, &kd->env, &out);
	kd->elbow = NULL;
	if (rc != ECORE_OK)
	{
		kmeans_step(kd, KMEANS_STEP_CLUSTERING, out.k);
		core_error(rc, kd);
	}
	kmeans_end(kd);
	for (k = k_min; k <= k_max; k++)
	{
		xs[k - k_min] = k;
		centroids[k - k_min] = engage_float8_matrix(out.centroids + (Size) (k - k_min) * k_max * kd->pts.d,
											 k, kd->pts.d);
	}
	rc = ecore_knee_locate(xs, out.inertia, nk, 1.0, ECORE_KNEE_CONVEX,
							ECORE_KNEE_DECREASING, &knee);
	if (rc != ECORE_OK)
		knee = -1;				/* e.g. a single k: no elbow */
	MemoryContextSwitchTo(caller);

	for (k = k_min; k <= k_max; k++)
	{
		Datum		values[ELBOW_NATTS];
		bool		nulls[ELBOW_NATTS] = {false};
		double		s = out.silhouette[k - k_min];

		values[0] = Int32GetDatum(k);
		values[1] = Float8GetDatum(out.inertia[k - k_min]);
		if (isnan(s))
			nulls[2] = true;
		else
			values[2] = Float8GetDatum(s);
		values[3] = Int32GetDatum(out.iterations[k - k_min]);
		values[4] = BoolGetDatum(knee >= 0 && k - k_min == knee);
		values[5] = PointerGetDatum(centroids[k - k_min]);
		if (out.sample_used < (size_t) kd->pts.n)
			values[6] = Int32GetDatum((int32) out.sample_used);
		else
			nulls[6] = true;
		if (scores)
		{
			double		db = out.davies_bouldin[k - k_min];
			double		ch = out.calinski_harabasz[k - k_min];

			values[7] = Float8GetDatum(db);
			nulls[7] = isnan(db);
			values[8] = Float8GetDatum(ch);
			nulls[8] = isnan(ch);
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/*
 * elbow_inertia(points, k_min, k_max, normalization, n_init, max_iter, tol,
 * seed, init, sample): one row per k: inertia, simplified silhouette (NULL
 * for k = 1), iterations, is_elbow on the k that Kneedle picks (none when
 * the curve has no knee), the k centroids (normalised), the size of the
 * sample the restarts ran on (NULL: every point), and the Davies-Bouldin
 * and Calinski-Harabasz indexes of the k's labels on all points (NULL for
 * k = 1 and k = n).  Each k after the first
 * gets, besides its restarts, one run started from the previous k's
 * clustering with its worst cluster split: ecore_elbow_curve.  sample 0
 * is its exact path (n_init restarts on every point), n > 0 its sampled
 * path with a sample of n points (exact when n reaches the number of
 * points), NULL the exact path up to ECORE_ELBOW_AUTO_EXACT_MAX points and
 * a sample of ECORE_ELBOW_AUTO_SAMPLE above.
 */
PG_FUNCTION_INFO_V1(engage_elbow_inertia);
Datum
engage_elbow_inertia(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	KmeansOptions o;
	KmeansData	kd;
	MemoryContext scratch;
	MemoryContext old;
	int			k_min;
	int			k_max;
	bool		auto_sample = PG_ARGISNULL(9);
	int32		sample = auto_sample ? 0 : PG_GETARG_INT32(9);

	engage_require_arg(fcinfo, 1, "k_min");
	engage_require_arg(fcinfo, 2, "k_max");
	parse_options(fcinfo, &o, 3, false);
	k_min = PG_GETARG_INT32(1);
	k_max = PG_GETARG_INT32(2);
	check_elbow_args(k_min, k_max, auto_sample, sample);

	InitMaterializedSRF(fcinfo, 0);
	scratch = scratch_context("engage elbow_inertia");
	old = MemoryContextSwitchTo(scratch);
	kmeans_begin(&kd, "elbow_inertia");
	points_and_normalization(&o, &kd);
	elbow_curve_rows(rsinfo, &o, &kd, k_min, k_max, auto_sample, sample, NULL, old);
	MemoryContextDelete(scratch);
	return (Datum) 0;
}

/*
 * store_elbow_curve(run_id, points, k_max, seed, sample[, normalization]):
 * step 3 of run_analysis, elbow_inertia(points, 1, k_max, normalization
 * (default zscore), seed => seed, sample => sample)'s rows, bit for bit (its
 * first seven columns; the two indexes too when declared with nine).  When store_user_clusters has just clustered
 * the same users of run_id with the same seed, in the same
 * (sub)transaction, the normalised points it kept are used (and freed)
 * instead of reading the points query again.
 */
PG_FUNCTION_INFO_V1(engage_store_elbow_curve);
Datum
engage_store_elbow_curve(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	KmeansOptions o;
	KmeansData	kd;
	MemoryContext scratch;
	MemoryContext old;
	ElbowCache *cache;
	int64		run_id;
	int			k_max;
	bool		auto_sample = PG_ARGISNULL(4);
	int32		sample = auto_sample ? 0 : PG_GETARG_INT32(4);

	engage_require_arg(fcinfo, 0, "run_id");
	engage_require_arg(fcinfo, 1, "points");
	engage_require_arg(fcinfo, 2, "k_max");
	engage_require_arg(fcinfo, 3, "seed");
	run_id = PG_GETARG_INT64(0);
	memset(&o, 0, sizeof(o));
	o.points = text_to_cstring(PG_GETARG_TEXT_PP(1));
	k_max = PG_GETARG_INT32(2);
	o.seed = PG_GETARG_INT64(3);
	/* elbow_inertia's defaults; an optional sixth argument, normalization */
	o.normalization = (PG_NARGS() > 5 && !PG_ARGISNULL(5)) ?
		parse_normalization(text_to_cstring(PG_GETARG_TEXT_PP(5))) : ECORE_SCALE_ZSCORE;
	o.n_init = 10;
	o.max_iter = 300;
	o.tol = 1e-4;
	o.init = ECORE_INIT_KMEANSPP;
	o.features = -1;
	check_elbow_args(1, k_max, auto_sample, sample);

	scratch = scratch_context("engage store_elbow_curve");
	cache = elbow_cache_take(run_id, o.seed, o.points, o.normalization, scratch);
	if (engage_split_normalization(o.normalization))
	{
		/*
		 * The split K-means' elbow (elbow_fit_sampled's in memory), from
		 * the points the split fit kept, or read again
		 */
		EngageSplitElbow a;

		memset(&a, 0, sizeof(a));
		a.function = "store_elbow_curve";
		if (cache != NULL && cache->split)
		{
			a.mem = &cache->mem;
			a.s = &cache->scaler;
			a.names = cache->feature_names;
		}
		else
		{
			a.points = o.points;
			a.in_memory = true;
		}
		a.k_min = 1;
		a.k_max = k_max;
		a.method = o.normalization;
		a.n_init = o.n_init;
		a.max_iter = o.max_iter;
		a.tol = o.tol;
		a.seed = o.seed;
		a.init = o.init;
		a.auto_sample = auto_sample;
		a.sample = sample;
		engage_split_elbow_rows(fcinfo, &a);
		MemoryContextDelete(scratch);
		return (Datum) 0;
	}
	InitMaterializedSRF(fcinfo, 0);
	old = MemoryContextSwitchTo(scratch);
	kmeans_begin(&kd, "store_elbow_curve");
	if (cache != NULL)
	{
		kd.pts.n = cache->n;
		kd.pts.d = cache->d;
		kd.pts.feature_names = cache->feature_names;
		kd.scaled = cache->scaled;
		kd.bytes = cache->bytes;
	}
	else
		points_and_normalization(&o, &kd);
	elbow_curve_rows(rsinfo, &o, &kd, 1, k_max, auto_sample, sample,
					 cache != NULL ? cache->hashes : NULL, old);
	MemoryContextDelete(scratch);
	return (Datum) 0;
}

/*
 * The work of scaling_params and normalize_points (SQL function
 * `function`): check their arguments (points, normalization), then the
 * points and their normalization into kd, in the scratch context.
 */
static void
load_scaled_points(FunctionCallInfo fcinfo, const char *function,
				   MemoryContext scratch, KmeansData *kd)
{
	KmeansOptions o;
	MemoryContext old;

	memset(&o, 0, sizeof(o));
	engage_require_arg(fcinfo, 0, "points");
	engage_require_arg(fcinfo, 1, "normalization");
	o.points = text_to_cstring(PG_GETARG_TEXT_PP(0));
	o.normalization = parse_normalization(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	old = MemoryContextSwitchTo(scratch);
	kmeans_begin(kd, function);
	points_and_normalization(&o, kd);
	kmeans_end(kd);
	MemoryContextSwitchTo(old);
}

/*
 * scaling_params(points, normalization): one row per feature with the fitted
 * scaler: mean, std (population), min, max, and the scale and shift that
 * the transform applies (zscore: (x - shift) / scale; minmax:
 * x * scale + shift; none: x), as scikit-learn's scalers define them
 * (StandardScaler mean_ and scale_, MinMaxScaler scale_ and min_).
 */
PG_FUNCTION_INFO_V1(engage_scaling_params);
Datum
engage_scaling_params(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	KmeansData	kd;
	MemoryContext scratch;
	int			j;

	InitMaterializedSRF(fcinfo, 0);
	scratch = scratch_context("engage scaling_params");
	load_scaled_points(fcinfo, "scaling_params", scratch, &kd);

	for (j = 0; j < kd.pts.d; j++)
	{
		Datum		values[8];
		bool		nulls[8] = {false};

		values[0] = CStringGetTextDatum(kd.pts.feature_names[j]);
		values[1] = CStringGetTextDatum(ecore_scale_method_name(kd.scaler.method));
		values[2] = Float8GetDatum(kd.scaler.mean[j]);
		values[3] = Float8GetDatum(sqrt(kd.scaler.var[j]));
		values[4] = Float8GetDatum(kd.scaler.data_min[j]);
		values[5] = Float8GetDatum(kd.scaler.data_max[j]);
		values[6] = Float8GetDatum(kd.scaler.scale[j]);
		values[7] = Float8GetDatum(kd.scaler.offset[j]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	MemoryContextDelete(scratch);
	return (Datum) 0;
}

/*
 * normalize_points(points, normalization): one row per point: key and its
 * normalised features, exactly what the clustering functions cluster.
 */
PG_FUNCTION_INFO_V1(engage_normalize_points);
Datum
engage_normalize_points(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	KmeansData	kd;
	MemoryContext scratch;
	int64		i;

	InitMaterializedSRF(fcinfo, 0);
	scratch = scratch_context("engage normalize_points");
	load_scaled_points(fcinfo, "normalize_points", scratch, &kd);

	for (i = 0; i < kd.pts.n; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = PointerGetDatum(kd.pts.keys[i]);
		values[1] = PointerGetDatum(engage_float8_array(kd.scaled + i * kd.pts.d, kd.pts.d));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		pfree(DatumGetPointer(values[1]));
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	MemoryContextDelete(scratch);
	return (Datum) 0;
}

/* ---------------------------------------------------------------------
 * The window function kmeans(features, k, normalization, n_init, seed)
 * OVER (PARTITION BY ...)
 * ---------------------------------------------------------------------
 */

/*
 * Its state over one partition, in the partition-local memory: made on
 * the partition's first row, the cluster of every row of the partition.
 */
typedef struct KmeansWindowState
{
	bool		done;
	int64		nrows;
	int32	   *clusters;		/* nrows: 1..k, or 0 for NULL */
} KmeansWindowState;

/* An argument of the window function on the current row, not NULL */
static Datum
window_arg(WindowObject winobj, int argno, const char *name)
{
	bool		isnull;
	Datum		value = WinGetFuncArgCurrent(winobj, argno, &isnull);

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
	return value;
}

/*
 * The features of row pos of the partition into row (d doubles), d set by
 * the first row with features (*d 0 before it): false for NULL features or
 * features holding a NULL (the row gets no cluster); a multidimensional or
 * empty array, or one of another length than the rows before it, is an
 * error.  The matrix of every row goes into cxt.
 */
static bool
window_row_features(WindowObject winobj, int64 pos, int *d, double **data,
					int64 npoints, int64 nrows, Size *bytes, MemoryContext cxt)
{
	bool		isnull;
	bool		isout;
	Datum		value;
	ArrayType  *arr;
	int			len;

	value = WinGetFuncArgInPartition(winobj, 0, (int) pos, WINDOW_SEEK_HEAD,
									 false, &isnull, &isout);
	if (isnull || isout)
		return false;
	arr = DatumGetArrayTypeP(value);
	if (ARR_ELEMTYPE(arr) != FLOAT8OID)
		elog(ERROR, "kmeans: features must be double precision[]");
	if (ARR_NDIM(arr) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("features must be a one-dimensional array, not one of %d dimensions",
						ARR_NDIM(arr)),
				 errhint("Pass one double precision[] of the features of each row, for example ARRAY[a, b, c].")));
	if (ARR_HASNULL(arr) && array_contains_nulls(arr))
		return false;
	len = ARR_DIMS(arr)[0];
	if (*d == 0)
	{
		/* the first row with features: the matrix of every row of the partition */
		*d = len;
		engage_check_memory(*bytes, (Size) nrows * len * sizeof(double));
		*data = MemoryContextAllocHuge(cxt, (Size) nrows * len * sizeof(double));
		*bytes += (Size) nrows * len * sizeof(double);
	}
	else if (len != *d)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("features of %d elements in a partition whose rows have %d",
						len, *d),
				 errhint("Every row of a partition must have as many features.")));
	memcpy(*data + npoints * *d, ARR_DATA_PTR(arr), sizeof(double) * *d);
	return true;
}

/*
 * Cluster the partition of the window function's current row into st:
 * its rows' features read (NULL features get no cluster), put in the
 * canonical order of kmeans_cluster's points with one and the same key
 * (the order depends on the features alone), normalised and clustered as
 * kmeans_cluster does (max_iter 300, tol 1e-4, k-means++), each row's
 * cluster kept in the partition's memory.
 */
static void
window_cluster_partition(WindowObject winobj, KmeansWindowState *st)
{
	MemoryContext partcxt = GetMemoryChunkContext(st);
	MemoryContext scratch;
	MemoryContext rowcxt;
	MemoryContext old;
	KmeansOptions o;
	KmeansData	kd;
	ecore_kmeans_result res;
	char	   *normalization;
	int64		nrows = WinGetPartitionRowCount(winobj);
	int64		npoints = 0;
	int64	   *rows;
	int64	   *perm;
	text	   *empty_key;
	double	   *data = NULL;
	int			d = 0;
	Size		bytes;
	int64		i;

	/* the options, from the partition's first row */
	memset(&o, 0, sizeof(o));
	o.k = DatumGetInt32(window_arg(winobj, 1, "k"));
	normalization = TextDatumGetCString(window_arg(winobj, 2, "normalization"));
	o.n_init = DatumGetInt32(window_arg(winobj, 3, "n_init"));
	o.seed = DatumGetInt64(window_arg(winobj, 4, "seed"));
	o.normalization = parse_normalization(normalization);
	o.max_iter = 300;
	o.tol = 1e-4;
	o.init = ECORE_INIT_KMEANSPP;
	o.features = -1;
	check_k(o.k, -1, "k");
	if (nrows > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("partition of %lld rows is too large for kmeans", (long long) nrows),
				 errdetail("A partition may hold at most %d rows.", PG_INT32_MAX)));
	if (o.n_init < 1 || o.n_init > KMEANS_MAX_N_INIT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_init must be between 1 and %d, not %d",
						KMEANS_MAX_N_INIT, o.n_init)));

	/* each row's cluster, for the whole partition */
	bytes = (Size) nrows * sizeof(int32);
	engage_check_memory(0, bytes);
	st->clusters = MemoryContextAllocExtended(partcxt, Max(bytes, 1),
											  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	st->nrows = nrows;

	scratch = scratch_context("engage kmeans window");
	old = MemoryContextSwitchTo(scratch);
	kmeans_begin(&kd, "kmeans");
	kd.window = true;
	kmeans_step(&kd, KMEANS_STEP_POINTS, 0);

	/* the features of the rows, a row context reset after each */
	engage_check_memory(bytes, (Size) nrows * sizeof(int64));
	rows = MemoryContextAllocHuge(scratch, Max((Size) nrows * sizeof(int64), 1));
	bytes += (Size) nrows * sizeof(int64);
	rowcxt = AllocSetContextCreate(scratch, "engage kmeans window row",
								   ALLOCSET_SMALL_SIZES);
	for (i = 0; i < nrows; i++)
	{
		bool		has;

		if ((i & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
		MemoryContextSwitchTo(rowcxt);
		has = window_row_features(winobj, i, &d, &data, npoints, nrows, &bytes,
								  scratch);
		MemoryContextSwitchTo(scratch);
		MemoryContextReset(rowcxt);
		if (has)
			rows[npoints++] = i;
	}
	MemoryContextDelete(rowcxt);
	kmeans_step(&kd, KMEANS_STEP_NONE, 0);

	if (npoints > 0)
	{
		/* the points, all with the empty key, in the canonical order */
		engage_check_memory(bytes, (Size) npoints * (sizeof(text *) + sizeof(int64)));
		empty_key = cstring_to_text("");
		kd.pts.n = npoints;
		kd.pts.d = d;
		kd.pts.data = data;
		kd.pts.keys = MemoryContextAllocHuge(scratch, (Size) npoints * sizeof(text *));
		for (i = 0; i < npoints; i++)
			kd.pts.keys[i] = empty_key;
		kd.pts.feature_names = palloc(sizeof(char *) * d);
		for (i = 0; i < d; i++)
			kd.pts.feature_names[i] = psprintf("f%d", (int) i + 1);
		perm = MemoryContextAllocHuge(scratch, (Size) npoints * sizeof(int64));
		kd.pts.bytes = bytes + (Size) npoints * (sizeof(text *) + sizeof(int64));
		engage_order_points(&kd.pts, perm);
		kd.bytes = kd.pts.bytes;

		apply_normalization(&kd, o.normalization);
		check_k(o.k, kd.pts.n, "k");
		fit_kmeans(&o, &kd, o.k, NULL, &res);
		for (i = 0; i < npoints; i++)
			st->clusters[rows[perm[i]]] = res.labels[i] + 1;
	}
	kmeans_end(&kd);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(scratch);
	st->done = true;
}

/*
 * kmeans(features, k, normalization, n_init, seed) OVER (PARTITION BY ...):
 * each row's cluster (1..k) in the K-means clustering of its partition's
 * features, exactly kmeans_cluster's on the partition's points given one
 * and the same key (see window_cluster_partition); NULL for NULL features
 * (or features holding a NULL), which take no part.  k, normalization,
 * n_init and seed are read on the partition's first row.
 */
PG_FUNCTION_INFO_V1(engage_kmeans);
Datum
engage_kmeans(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	KmeansWindowState *st;
	int64		pos;

	st = (KmeansWindowState *) WinGetPartitionLocalMemory(winobj,
														  sizeof(KmeansWindowState));
	if (!st->done)
		window_cluster_partition(winobj, st);
	pos = WinGetCurrentPosition(winobj);
	if (pos < 0 || pos >= st->nrows)
		elog(ERROR, "kmeans: row %lld outside its partition", (long long) pos);
	if (st->clusters[pos] == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32(st->clusters[pos]);
}
