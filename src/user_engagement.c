/*-------------------------------------------------------------------------
 *
 * user_engagement.c
 *	  engage.store_user_engagement(run_id, query, n_applications): the
 *	  per-user step of run_analysis, in one pass over the per-user rows;
 *	  engage.parse_start_time(text), the start of a session in TellCo's
 *	  text form, for run_analysis's time windows.
 *
 * run_analysis builds the per-user query (engagement_agg and traffic_agg
 * grouped by subscriber); this function runs it and, as the rows stream
 * out of the executor, writes each user's row into
 * engage.result_user_engagement, keeps the top 10 users of each metric and
 * of each application and adds up the application totals and the counts.
 * It returns the counts, the top lists and the totals; run_analysis writes
 * those few rows itself.  Nothing is read twice: no materialised copy of
 * the users, no second scan of what was just written.
 *
 * The query runs through SPI with parallel query allowed (a SELECT, run to
 * completion, tcount 0): the planner may give the scan and the partial
 * aggregation to parallel workers.  The rows reach a DestReceiver in the
 * leader, which writes them in batches with table_multi_insert and a
 * BulkInsertState, as COPY FROM does, then inserts their index entries
 * (the BRIN index on run_id) and checks the table's constraints
 * (bulk_write.c, shared with store_user_clusters).  Writing
 * from the leader while its workers read is what CREATE TABLE AS does too;
 * the transaction id is taken before the query starts (none may be
 * assigned in parallel mode).  Since the rows bypass the executor's
 * INSERT, the function checks the caller's INSERT privilege itself and
 * refuses a table with triggers or row-level security, which it would not
 * honour.
 *
 * The query's columns, by position: the MSISDN as text (stored), the
 * MSISDN in the source's own type (NULL: the rows without subscriber, only
 * counted; its ordering breaks ties in the top lists, as ORDER BY ... , m
 * does), sessions bigint, duration_ms, dl_bytes, ul_bytes and total_bytes
 * numeric, rejected_values bigint, the application DL and UL sums as two
 * double precision[] of n_applications elements (NULL elements: no value;
 * the arrays are NULL when there are no applications) and the application
 * values rejected, bigint.  A query of a time window (run_analysis's since
 * and until) has a twelfth column, bigint: the group's rows left out for
 * their start (NULL, or a text that does not parse); its other columns
 * are then of the group's rows in the window, and a group of no such row
 * (sessions NULL or 0) is counted, not stored.  A last column, bytea, is
 * the user's sessions by hour of day (hours_agg, src/hours_agg.c, of the
 * hour of the start, NULL for a start that gives no time), stored in
 * column hours (NULL when the query has no such column: a source without
 * start column).  So the query has 11 columns, 12 (the window's bigint or
 * the hours' bytea) or 13 (both, in that order); the stored histogram is
 * not read here.
 *
 * What the rows give, exactly as run_analysis's SQL gave it before:
 * - top 10 users by sessions, duration_ms and total_bytes (NULLs left out):
 *   value descending, then the MSISDN ascending in its own type and
 *   collation; the rank is the position in that order;
 * - top 10 users of each application among those with a DL or UL value:
 *   chosen by COALESCE(dl, 0) + COALESCE(ul, 0) in double precision,
 *   descending, then the MSISDN; their total is
 *   COALESCE(dl::numeric, 0) + COALESCE(ul::numeric, 0) and they are ranked
 *   by that total descending, then the MSISDN;
 * - per application, the exact sums of the users' DL and UL sums
 *   (engagement_agg's policy: the integer parts in 128 bits, the fractional
 *   parts in a double; infinite sums skipped; a sum of 2^64 or more is an
 *   error) and the users whose DL + UL is above 0;
 * - the rows read, the rows without subscriber, the users and the values
 *   rejected (of the rows with a subscriber); with a window, the rows left
 *   out for their start, which the rows read include.
 * Memory stays bounded: a batch of rows, 10 entries per list, a few
 * numbers per application.  Besides, each user's key and K-means features
 * (sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) as double
 * precision) are kept for run_analysis's K-means step (run_points.c), which
 * then reads nothing back, within engage.max_memory: past it, or at a value
 * the points query would refuse, nothing is kept and the step reads the
 * points query as before; so are the user's exact sessions, duration and
 * traffic (when integers up to 2^53) and hours, from which the cluster
 * statistics are summed after the fit (captured_cluster_sums).
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_oper.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/sortsupport.h"
#include "utils/timestamp.h"

#include "bulk_write.h"
#include "engage.h"
#include "run_points.h"

/* engage.progress: a NOTICE each time this many more users are written */
#define USER_PROGRESS_EVERY 1000000

/* The columns of the per-user query */
#define Q_MSISDN		0		/* text, stored */
#define Q_KEY			1		/* the MSISDN in the source's type */
#define Q_SESSIONS		2
#define Q_DURATION		3
#define Q_DL			4
#define Q_UL			5
#define Q_TOTAL			6
#define Q_REJECTED		7
#define Q_APP_DL		8
#define Q_APP_UL		9
#define Q_APP_REJECTED	10
#define Q_NCOLS			11
#define Q_LEFT_OUT		11		/* a window's query only */

/* engage.result_user_engagement's columns */
#define T_NATTS			10
#define T_HOURS			9		/* hours: the query's last column, if bytea */

/* The result of store_user_engagement */
#define R_NATTS			16

#define TOP_N			10		/* users per top list */
#define MAX_APPLICATIONS 1000

/* 2^64 as a double: the first per-user sum too large for a total */
#define TWO_POW_64 18446744073709551616.0

/* What a top list ranks by */
typedef enum TopKind
{
	TOP_INT8,					/* sessions */
	TOP_NUMERIC,				/* duration_ms, total_bytes */
	TOP_FLOAT8					/* an application's DL + UL */
} TopKind;

/* One user in a top list */
typedef struct TopEntry
{
	Datum		key;			/* the MSISDN in the source's type */
	text	   *msisdn;			/* the MSISDN as text */
	int64		ival;			/* TOP_INT8 */
	Datum		nval;			/* TOP_NUMERIC */
	double		nval_d;			/* TOP_NUMERIC: nval as a double
								 * (engage_numeric_to_double) */
	double		fval;			/* TOP_FLOAT8: DL + UL */
	double		dl;				/* TOP_FLOAT8: DL, UL; NaN: NULL */
	double		ul;
} TopEntry;

/* The best TOP_N users so far, best first */
typedef struct TopList
{
	TopKind		kind;
	int			n;
	TopEntry	e[TOP_N];
} TopList;

/* An exact sum of double precision values, as engagement_agg keeps one */
typedef struct ExactSum
{
	uint64		lo;				/* integer parts, 128 bits */
	uint64		hi;
	double		frac;			/* fractional parts */
	bool		present;		/* a value was added */
} ExactSum;

/* The DestReceiver of the per-user rows */
typedef struct UserReceiver
{
	DestReceiver pub;
	int64		run_id;
	int			napps;
	TimestampTz started;		/* for the engage.progress NOTICEs */

	/* the table and its bulk insertion */
	EngageBulkWriter writer;

	/* ordering of the MSISDN key */
	SortSupportData keysort;
	int16		keylen;
	bool		keybyval;

	MemoryContext rowcxt;		/* per-row scratch */
	MemoryContext topcxt;		/* copies of the values kept in top lists */

	/* what the rows give */
	bool		window;			/* the query has column Q_LEFT_OUT */
	int			hours_col;		/* the query's column of hours; -1: none */
	int64		rows;
	int64		rows_nosub;
	int64		rows_left_out;
	int64		users;
	int64		rejected;
	TopList		metric[3];		/* sessions, duration_ms, total_bytes */
	TopList    *app;			/* per application */
	ExactSum   *app_dl;
	ExactSum   *app_ul;
	int64	   *app_users;

	/* per-row work arrays */
	double	   *dl;
	double	   *ul;
	ArrayType  *arraybuf;		/* an application array, aligned (see
								 * read_app_array) */
	Size		arraybuf_size;
} UserReceiver;

static const char *const metric_names[3] = {"sessions", "duration_ms", "total_bytes"};

/*
 * The query column of each column of the table but run_id and hours:
 * msisdn, sessions, the four sums, the two application arrays
 */
static const int table_columns[T_HOURS] = {
	-1, Q_MSISDN, Q_SESSIONS, Q_DURATION, Q_DL, Q_UL, Q_TOTAL, Q_APP_DL, Q_APP_UL
};

/*
 * Order of two entries of a top list: negative when a ranks before b
 * (a larger value, or an equal value and a smaller MSISDN).
 */
static int
top_compare(UserReceiver *r, TopKind kind, const TopEntry *a, const TopEntry *b)
{
	int			c;

	switch (kind)
	{
		case TOP_INT8:
			c = (a->ival > b->ival) ? -1 : (a->ival < b->ival) ? 1 : 0;
			break;
		case TOP_NUMERIC:
			c = -DatumGetInt32(DirectFunctionCall2(numeric_cmp, a->nval, b->nval));
			break;
		default:
			c = -float8_cmp_internal(a->fval, b->fval);
			break;
	}
	if (c != 0)
		return c;
	return ApplySortComparator(a->key, false, b->key, false, &r->keysort);
}

/* Free the copies that a top-list entry holds */
static void
top_entry_free(UserReceiver *r, TopKind kind, TopEntry *e)
{
	if (!r->keybyval)
		pfree(DatumGetPointer(e->key));
	pfree(e->msisdn);
	if (kind == TOP_NUMERIC)
		pfree(DatumGetPointer(e->nval));
}

/*
 * Offer a user (its values pointing into the current row) to a top list:
 * kept, as copies in topcxt, when it ranks among the best TOP_N so far.
 *
 * Nearly every user is below the last of a full list.  For a numeric list
 * that is first decided on the doubles of the two values: the conversion
 * (correctly rounded, as numeric_float8 gives it) never orders two values
 * the other way round, so a double strictly below the last entry's means
 * a value strictly below it, which ranks after it whatever the MSISDNs.
 * Anything else (equal doubles, NaN) is decided by numeric_cmp, which then
 * gives exactly the order it gave before, without the numerics' copies
 * (their short headers detoasted) for the common case.
 */
static void
top_offer(UserReceiver *r, TopList *list, const TopEntry *cand)
{
	MemoryContext oldcxt;
	TopEntry	copy;
	int			pos;

	if (list->n == TOP_N &&
		((list->kind == TOP_NUMERIC && cand->nval_d < list->e[TOP_N - 1].nval_d) ||
		 top_compare(r, list->kind, cand, &list->e[TOP_N - 1]) >= 0))
		return;
	/* the common case is above: a user that does not make the list */
	pos = list->n == TOP_N ? TOP_N - 1 : list->n;
	while (pos > 0 && top_compare(r, list->kind, cand, &list->e[pos - 1]) < 0)
		pos--;

	oldcxt = MemoryContextSwitchTo(r->topcxt);
	copy = *cand;
	copy.key = datumCopy(cand->key, r->keybyval, r->keylen);
	copy.msisdn = DatumGetTextPCopy(PointerGetDatum(cand->msisdn));
	copy.nval = list->kind == TOP_NUMERIC ?
		PointerGetDatum(DatumGetNumericCopy(cand->nval)) : (Datum) 0;
	copy.nval_d = cand->nval_d;
	MemoryContextSwitchTo(oldcxt);

	if (list->n == TOP_N)
		top_entry_free(r, list->kind, &list->e[TOP_N - 1]);
	else
		list->n++;
	memmove(&list->e[pos + 1], &list->e[pos], sizeof(TopEntry) * (list->n - 1 - pos));
	list->e[pos] = copy;
}

/* Add one user's sum to an application total (engagement_agg's policy) */
static void
exact_sum_add(ExactSum *s, double x, const char *measure)
{
	uint64		ipart;
	uint64		lo;

	if (likely(x >= 0.0 && x < TWO_POW_64))
	{
		ipart = (uint64) x;
		lo = s->lo + ipart;
		if (lo < s->lo)
		{
			if (s->hi == PG_UINT64_MAX)
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("engagement_agg sum of %s is out of range", measure),
						 errdetail("A sum must be below 2^128.")));
			s->hi++;
		}
		s->lo = lo;
		/* below 2^53 the subtraction is exact; above, x is an integer */
		if ((double) ipart != x)
			s->frac += x - (double) ipart;
		s->present = true;
	}
	else if (isnan(x) || x < 0.0 || isinf(x))
		return;					/* rejected, as engagement_agg does */
	else
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value %s of %s is out of range for engagement_agg",
						psprintf("%g", x), measure),
				 errdetail("Each value must be below 2^64."),
				 errhint("Such a value is a faulty measure: filter it out or set it to NULL.")));
}

/* An exact sum as numeric (NULL when no value was added) */
static Datum
exact_sum_numeric(const ExactSum *s, bool *isnull)
{
	Numeric		two32 = int64_to_numeric(INT64CONST(1) << 32);
	Numeric		acc;

	*isnull = !s->present;
	if (!s->present)
		return (Datum) 0;
	/* hi * 2^64 + lo, with each word split to stay within int64 */
	acc = int64_to_numeric((int64) (s->hi >> 32));
	acc = numeric_mul_opt_error(acc, two32, NULL);
	acc = numeric_add_opt_error(acc, int64_to_numeric((int64) (s->hi & 0xFFFFFFFF)), NULL);
	acc = numeric_mul_opt_error(acc, two32, NULL);
	acc = numeric_add_opt_error(acc, int64_to_numeric((int64) (s->lo >> 32)), NULL);
	acc = numeric_mul_opt_error(acc, two32, NULL);
	acc = numeric_add_opt_error(acc, int64_to_numeric((int64) (s->lo & 0xFFFFFFFF)), NULL);
	if (s->frac != 0.0)
		acc = numeric_add_opt_error(acc,
									DatumGetNumeric(DirectFunctionCall1(float8_numeric,
																		Float8GetDatum(s->frac))),
									NULL);
	return NumericGetDatum(acc);
}

/*
 * The n elements of an application array column of the query into vals
 * (NaN for a NULL element; all NaN for a NULL array), after checking its
 * shape.
 *
 * The arrays come out of traffic_final's composite, where a small one has a
 * short (1-byte, unaligned) header: DatumGetArrayTypeP would palloc an
 * aligned copy of each, twice per user; engage_array_local copies it into
 * buf (bufsize bytes, aligned) instead.
 */
static void
read_app_array(Datum value, bool isnull, int n, double *vals, const char *column,
			   ArrayType *buf, Size bufsize)
{
	ArrayType  *a;
	bits8	   *bitmap;
	const char *p;
	int			i;

	if (isnull)
	{
		for (i = 0; i < n; i++)
			vals[i] = get_float8_nan();
		return;
	}
	a = engage_array_local(value, buf, bufsize);
	if (ARR_NDIM(a) != 1 || ARR_DIMS(a)[0] != n || ARR_ELEMTYPE(a) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column %s of the per-user query must be NULL or a one-dimensional array of %d elements",
						column, n),
				 errdetail("A row has %d dimensions and %d elements.",
						   ARR_NDIM(a), ARR_NDIM(a) == 1 ? ARR_DIMS(a)[0] : 0)));
	bitmap = ARR_NULLBITMAP(a);
	p = ARR_DATA_PTR(a);
	for (i = 0; i < n; i++)
	{
		if (bitmap != NULL && (bitmap[i / 8] & (1 << (i % 8))) == 0)
			vals[i] = get_float8_nan();
		else
		{
			memcpy(&vals[i], p, sizeof(double));
			p += sizeof(double);
		}
	}
}

/* The query's row type: check it, and prepare the ordering of its key */
static void
user_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
	UserReceiver *r = (UserReceiver *) self;
	static const Oid expected[Q_NCOLS] = {
		TEXTOID, InvalidOid, INT8OID, NUMERICOID, NUMERICOID, NUMERICOID,
		NUMERICOID, INT8OID, FLOAT8ARRAYOID, FLOAT8ARRAYOID, INT8OID
	};
	Form_pg_attribute key;
	Oid			ltopr;
	Oid			last;
	int			i;

	(void) operation;
	if (typeinfo->natts < Q_NCOLS || typeinfo->natts > Q_NCOLS + 2)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the per-user query must return %d to %d columns", Q_NCOLS, Q_NCOLS + 2),
				 errdetail("It returns %d.", typeinfo->natts)));
	/* the extra columns: a window's count, then the hours (see the header) */
	last = TupleDescAttr(typeinfo, typeinfo->natts - 1)->atttypid;
	r->hours_col = typeinfo->natts > Q_NCOLS && last == BYTEAOID ? typeinfo->natts - 1 : -1;
	r->window = typeinfo->natts == Q_NCOLS + 2 ||
		(typeinfo->natts == Q_NCOLS + 1 && r->hours_col < 0);
	if (r->window && TupleDescAttr(typeinfo, Q_LEFT_OUT)->atttypid != INT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column %d of the per-user query is %s, not %s", Q_LEFT_OUT + 1,
						format_type_be(TupleDescAttr(typeinfo, Q_LEFT_OUT)->atttypid),
						typeinfo->natts == Q_NCOLS + 2 ? format_type_be(INT8OID) : "bigint or bytea"),
				 errhint("The twelfth column, of a time window's query, counts the rows left out for their start; the last, bytea, holds the hours of activity.")));
	if (typeinfo->natts == Q_NCOLS + 2 && r->hours_col < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column %d of the per-user query is %s, not %s", Q_NCOLS + 2,
						format_type_be(last), format_type_be(BYTEAOID)),
				 errhint("The thirteenth column holds the user's sessions by hour of day (hours_agg).")));
	for (i = 0; i < Q_NCOLS; i++)
	{
		Oid			type = TupleDescAttr(typeinfo, i)->atttypid;

		if (OidIsValid(expected[i]) && type != expected[i])
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column %d of the per-user query is %s, not %s",
							i + 1, format_type_be(type), format_type_be(expected[i])),
					 errhint("The columns are: msisdn text, the MSISDN in the source's type, sessions bigint, duration_ms, dl_bytes, ul_bytes and total_bytes numeric, rejected_values bigint, application DL and UL double precision[], application values rejected bigint.")));
	}

	/* ORDER BY the key, in its type's default order and its collation */
	key = TupleDescAttr(typeinfo, Q_KEY);
	get_sort_group_operators(key->atttypid, true, false, false, &ltopr, NULL, NULL, NULL);
	memset(&r->keysort, 0, sizeof(r->keysort));
	r->keysort.ssup_cxt = r->topcxt;
	r->keysort.ssup_collation = key->attcollation;
	r->keysort.ssup_nulls_first = false;
	r->keysort.abbreviate = false;
	PrepareSortSupportFromOrderingOp(ltopr, &r->keysort);
	get_typlenbyval(key->atttypid, &r->keylen, &r->keybyval);

	/* after SPI's CommandCounterIncrement: rows invisible to the query */
	r->writer.cid = GetCurrentCommandId(true);
}

/* One per-user row: write it, offer it to the top lists, add it up */
static bool
user_receive(TupleTableSlot *slot, DestReceiver *self)
{
	UserReceiver *r = (UserReceiver *) self;
	Datum	   *v;
	bool	   *isnull;
	TupleTableSlot *out;
	MemoryContext oldcxt;
	TopEntry	cand;
	int64		sessions;
	double		duration_d;
	double		total_d;
	EngageRunRow row;
	int			i;

	slot_getallattrs(slot);
	v = slot->tts_values;
	isnull = slot->tts_isnull;
	if (r->window)
	{
		int64		left_out;

		if (isnull[Q_LEFT_OUT])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the per-user query returned a NULL count"),
					 errdetail("The rows left out for their start must not be NULL.")));
		left_out = DatumGetInt64(v[Q_LEFT_OUT]);
		if (left_out < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the per-user query returned a negative count")));
		r->rows_left_out += left_out;
		r->rows += left_out;
		/* a group of no row in the window: no user */
		if (isnull[Q_SESSIONS] || DatumGetInt64(v[Q_SESSIONS]) == 0)
			return true;
	}
	if (isnull[Q_SESSIONS] || isnull[Q_REJECTED] || isnull[Q_APP_REJECTED])
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the per-user query returned a NULL count"),
				 errdetail("Columns sessions, rejected_values and the application values rejected must not be NULL.")));
	sessions = DatumGetInt64(v[Q_SESSIONS]);
	r->rows += sessions;
	if (isnull[Q_KEY])
	{
		/* the rows without subscriber: counted, not stored */
		r->rows_nosub += sessions;
		return true;
	}
	if (isnull[Q_MSISDN])
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the per-user query returned a NULL msisdn for a subscriber")));
	r->users++;
	if (unlikely(r->users % USER_PROGRESS_EVERY == 0))
		engage_progress_notice(r->started, "per-user engagement: " INT64_FORMAT " users written",
							   r->users);
	r->rejected += DatumGetInt64(v[Q_REJECTED]) + DatumGetInt64(v[Q_APP_REJECTED]);

	oldcxt = MemoryContextSwitchTo(r->rowcxt);

	/* the table's row, materialised in its slot until the batch is written */
	out = engage_bulk_slot(&r->writer);
	out->tts_values[0] = Int64GetDatum(r->run_id);
	out->tts_isnull[0] = false;
	for (i = 1; i < T_HOURS; i++)
	{
		out->tts_values[i] = v[table_columns[i]];
		out->tts_isnull[i] = isnull[table_columns[i]];
	}
	out->tts_values[T_HOURS] = r->hours_col < 0 ? (Datum) 0 : v[r->hours_col];
	out->tts_isnull[T_HOURS] = r->hours_col < 0 || isnull[r->hours_col];
	engage_bulk_add(&r->writer);
	/*
	 * duration_ms and total_bytes as doubles, once: the run's points for
	 * its K-means step (run_points.c; NULL is 0 there) and the top lists'
	 * quick test (top_offer)
	 */
	duration_d = isnull[Q_DURATION] ? 0.0 : engage_numeric_to_double(v[Q_DURATION]);
	total_d = isnull[Q_TOTAL] ? 0.0 : engage_numeric_to_double(v[Q_TOTAL]);
	row.msisdn = v[Q_MSISDN];
	row.sessions = sessions;
	row.duration_ms = v[Q_DURATION];
	row.duration_null = isnull[Q_DURATION];
	row.total_bytes = v[Q_TOTAL];
	row.total_null = isnull[Q_TOTAL];
	row.duration = duration_d;
	row.total = total_d;
	row.hours = out->tts_values[T_HOURS];
	row.hours_null = out->tts_isnull[T_HOURS];
	engage_run_points_add(&row);

	/* the metric top lists */
	memset(&cand, 0, sizeof(cand));
	cand.key = v[Q_KEY];
	cand.msisdn = DatumGetTextPP(v[Q_MSISDN]);
	cand.ival = sessions;
	top_offer(r, &r->metric[0], &cand);
	if (!isnull[Q_DURATION])
	{
		cand.nval = v[Q_DURATION];
		cand.nval_d = duration_d;
		top_offer(r, &r->metric[1], &cand);
	}
	if (!isnull[Q_TOTAL])
	{
		cand.nval = v[Q_TOTAL];
		cand.nval_d = total_d;
		top_offer(r, &r->metric[2], &cand);
	}

	/* the applications: totals, users, top lists */
	if (r->napps > 0)
	{
		read_app_array(v[Q_APP_DL], isnull[Q_APP_DL], r->napps, r->dl, "app_dl_bytes",
					   r->arraybuf, r->arraybuf_size);
		read_app_array(v[Q_APP_UL], isnull[Q_APP_UL], r->napps, r->ul, "app_ul_bytes",
					   r->arraybuf, r->arraybuf_size);
		for (i = 0; i < r->napps; i++)
		{
			double		dl = r->dl[i];
			double		ul = r->ul[i];
			double		sum;

			if (isnan(dl) && isnan(ul))
				continue;
			if (!isnan(dl))
				exact_sum_add(&r->app_dl[i], dl, "dl_bytes");
			if (!isnan(ul))
				exact_sum_add(&r->app_ul[i], ul, "ul_bytes");
			sum = (isnan(dl) ? 0.0 : dl) + (isnan(ul) ? 0.0 : ul);
			if (sum > 0.0)
				r->app_users[i]++;
			cand.fval = sum;
			cand.dl = dl;
			cand.ul = ul;
			top_offer(r, &r->app[i], &cand);
		}
	}

	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(r->rowcxt);
	return true;
}

/* The end of the rows: write the last batch */
static void
user_shutdown(DestReceiver *self)
{
	engage_bulk_flush(&((UserReceiver *) self)->writer);
}

/* Nothing to free: the memory goes with the function's context */
static void
user_destroy(DestReceiver *self)
{
	(void) self;
}

/*
 * Open engage.result_user_engagement (in the function's own schema) for
 * bulk insertion (bulk_write.c): lock, privileges, what the bulk path
 * cannot honour, its layout, its indexes.
 */
static void
open_result_table(UserReceiver *r, Oid nspid)
{
	static const Oid types[T_NATTS] = {
		INT8OID, TEXTOID, INT8OID, NUMERICOID, NUMERICOID, NUMERICOID, NUMERICOID,
		FLOAT8ARRAYOID, FLOAT8ARRAYOID, BYTEAOID
	};

	engage_bulk_open(&r->writer, nspid, "result_user_engagement", T_NATTS, types,
					 "per-user rows");
}

/*
 * Run the per-user query into the receiver: one SELECT, planned with
 * parallel query allowed, run to completion.
 *
 * The query groups the source by subscriber, and nearly every group is a
 * subscriber of one or two rows: a hash aggregate cannot be shared by
 * parallel workers usefully (each worker's partial groups are as many as
 * its rows), so the planner picks one serial hash aggregate over the whole
 * source.  With hash aggregation off for this query only, it picks what
 * the plain-SQL floor runs: each worker sorts its share of the rows by
 * subscriber and aggregates it, and the leader merges the sorted partial
 * groups (2 M rows: about 12 s against 16 s on two cores).  The rows and
 * the aggregates' results are the same (exact sums); only the order of the
 * users written changes, which nothing reads (a run's readers order or
 * hash the users themselves).  The setting is restored when the query
 * ends, or by the (sub)transaction's abort on an error.
 *
 * The leader also takes its share of the rows (parallel_leader_participation
 * as the session has it).  Run without it (planned with it, which keeps
 * the parallel plan), the leader's CPU in the step fell by a quarter at 10
 * M rows, but on two cores the step took as long and the whole run longer:
 * the workers then do the leader's share on the same cores (bench/README.md,
 * "Where the per-user step's leader time goes at 10 M").
 */
static void
run_user_query(const char *query, UserReceiver *r)
{
	SPIPlanPtr	plan;
	List	   *sources;
	Query	   *parsed = NULL;
	SPIExecuteOptions options;
	int			rc;
	int			nestlevel;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("enable_hashagg", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	plan = SPI_prepare_cursor(query, 0, NULL, CURSOR_OPT_PARALLEL_OK);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare_cursor failed: %s", SPI_result_code_string(SPI_result));
	sources = SPI_plan_get_plan_sources(plan);
	if (list_length(sources) == 1)
	{
		CachedPlanSource *source = (CachedPlanSource *) linitial(sources);

		if (list_length(source->query_list) == 1)
			parsed = linitial_node(Query, source->query_list);
	}
	if (parsed == NULL || parsed->commandType != CMD_SELECT || !SPI_is_cursor_plan(plan) ||
		parsed->hasModifyingCTE || parsed->rowMarks != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the per-user query must be one SELECT that changes no data")));

	memset(&options, 0, sizeof(options));
	options.read_only = false;
	options.tcount = 0;			/* run to completion: parallel query allowed */
	options.dest = &r->pub;
	rc = SPI_execute_plan_extended(plan, &options);
	/* with a custom receiver SPI reports a SELECT as SPI_OK_UTILITY */
	if (rc != SPI_OK_SELECT && rc != SPI_OK_UTILITY)
		elog(ERROR, "per-user query failed: %s", SPI_result_code_string(rc));
	AtEOXact_GUC(true, nestlevel);
	SPI_finish();
}

/* An array of n Datums of a type, with nulls (may be NULL) */
static Datum
make_array(Datum *values, bool *nulls, int n, Oid type)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};
	int16		len;
	bool		byval;
	char		align;

	if (n == 0)
		return PointerGetDatum(construct_empty_array(type));
	get_typlenbyvalalign(type, &len, &byval, &align);
	return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs,
											  type, len, byval, align));
}

/*
 * engage.store_user_engagement(run_id bigint, query text, n_applications
 * integer): see the file header.  Internal to run_analysis.
 */
PG_FUNCTION_INFO_V1(engage_store_user_engagement);
Datum
engage_store_user_engagement(PG_FUNCTION_ARGS)
{
	UserReceiver r;
	char	   *query;
	TupleDesc	tupdesc;
	Datum		result[R_NATTS];
	bool		rnulls[R_NATTS];
	int			ntop = 0;
	int			napptop = 0;
	Datum	   *tm,
			   *tr,
			   *tmsisdn,
			   *tv;
	Datum	   *ap,
			   *ar,
			   *amsisdn,
			   *av;
	Datum	   *dl,
			   *ul,
			   *users;
	bool	   *dlnull,
			   *ulnull;
	int			i,
				j;

	engage_require_arg(fcinfo, 0, "run_id");
	engage_require_arg(fcinfo, 1, "query");
	engage_require_arg(fcinfo, 2, "n_applications");
	if (PG_GETARG_INT32(2) < 0 || PG_GETARG_INT32(2) > MAX_APPLICATIONS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_applications must be between 0 and %d", MAX_APPLICATIONS),
				 errdetail("n_applications is %d.", PG_GETARG_INT32(2))));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE ||
		tupdesc->natts != R_NATTS)
		elog(ERROR, "return type must be a row type of %d attributes", R_NATTS);

	memset(&r, 0, sizeof(r));
	r.pub.receiveSlot = user_receive;
	r.pub.rStartup = user_startup;
	r.pub.rShutdown = user_shutdown;
	r.pub.rDestroy = user_destroy;
	r.pub.mydest = DestNone;
	r.run_id = PG_GETARG_INT64(0);
	r.started = GetCurrentTimestamp();
	r.napps = PG_GETARG_INT32(2);
	query = text_to_cstring(PG_GETARG_TEXT_PP(1));
	r.rowcxt = AllocSetContextCreate(CurrentMemoryContext, "engage per-user row",
									 ALLOCSET_DEFAULT_SIZES);
	r.topcxt = AllocSetContextCreate(CurrentMemoryContext, "engage top users",
									 ALLOCSET_SMALL_SIZES);
	r.metric[0].kind = TOP_INT8;
	r.metric[1].kind = TOP_NUMERIC;
	r.metric[2].kind = TOP_NUMERIC;
	r.app = palloc0(sizeof(TopList) * Max(r.napps, 1));
	for (i = 0; i < r.napps; i++)
		r.app[i].kind = TOP_FLOAT8;
	r.app_dl = palloc0(sizeof(ExactSum) * Max(r.napps, 1));
	r.app_ul = palloc0(sizeof(ExactSum) * Max(r.napps, 1));
	r.app_users = palloc0(sizeof(int64) * Max(r.napps, 1));
	r.dl = palloc(sizeof(double) * Max(r.napps, 1));
	r.ul = palloc(sizeof(double) * Max(r.napps, 1));
	/* room for an array of napps double precision values with nulls */
	r.arraybuf_size = ARR_OVERHEAD_WITHNULLS(1, Max(r.napps, 1)) +
		sizeof(double) * Max(r.napps, 1);
	r.arraybuf = palloc(r.arraybuf_size);

	open_result_table(&r, get_func_namespace(fcinfo->flinfo->fn_oid));
	/* no transaction id may be assigned once parallel workers run */
	(void) GetCurrentTransactionId();
	engage_run_points_start(r.run_id);
	run_user_query(query, &r);
	engage_bulk_close(&r.writer);
	engage_run_points_finish();

	/* the metric top lists, in rank order */
	tm = palloc(sizeof(Datum) * 3 * TOP_N);
	tr = palloc(sizeof(Datum) * 3 * TOP_N);
	tmsisdn = palloc(sizeof(Datum) * 3 * TOP_N);
	tv = palloc(sizeof(Datum) * 3 * TOP_N);
	for (i = 0; i < 3; i++)
		for (j = 0; j < r.metric[i].n; j++)
		{
			TopEntry   *e = &r.metric[i].e[j];

			tm[ntop] = CStringGetTextDatum(metric_names[i]);
			tr[ntop] = Int32GetDatum(j + 1);
			tmsisdn[ntop] = PointerGetDatum(e->msisdn);
			tv[ntop] = i == 0 ? NumericGetDatum(int64_to_numeric(e->ival)) : e->nval;
			ntop++;
		}

	/*
	 * The application top lists: each user's total as numeric, the list
	 * ranked by it (then the MSISDN); insertion sort of at most TOP_N.
	 */
	ap = palloc(sizeof(Datum) * TOP_N * Max(r.napps, 1));
	ar = palloc(sizeof(Datum) * TOP_N * Max(r.napps, 1));
	amsisdn = palloc(sizeof(Datum) * TOP_N * Max(r.napps, 1));
	av = palloc(sizeof(Datum) * TOP_N * Max(r.napps, 1));
	for (i = 0; i < r.napps; i++)
	{
		TopList    *list = &r.app[i];
		Numeric		zero = int64_to_numeric(0);
		int			k;

		for (j = 0; j < list->n; j++)
		{
			TopEntry   *e = &list->e[j];
			Numeric		dlnum = isnan(e->dl) ? zero :
				DatumGetNumeric(DirectFunctionCall1(float8_numeric, Float8GetDatum(e->dl)));
			Numeric		ulnum = isnan(e->ul) ? zero :
				DatumGetNumeric(DirectFunctionCall1(float8_numeric, Float8GetDatum(e->ul)));

			e->nval = NumericGetDatum(numeric_add_opt_error(dlnum, ulnum, NULL));
		}
		for (j = 1; j < list->n; j++)
		{
			TopEntry	e = list->e[j];

			for (k = j; k > 0 && top_compare(&r, TOP_NUMERIC, &e, &list->e[k - 1]) < 0; k--)
				list->e[k] = list->e[k - 1];
			list->e[k] = e;
		}
		for (j = 0; j < list->n; j++)
		{
			ap[napptop] = Int32GetDatum(i + 1);
			ar[napptop] = Int32GetDatum(j + 1);
			amsisdn[napptop] = PointerGetDatum(list->e[j].msisdn);
			av[napptop] = list->e[j].nval;
			napptop++;
		}
	}

	/* the application totals */
	dl = palloc(sizeof(Datum) * Max(r.napps, 1));
	ul = palloc(sizeof(Datum) * Max(r.napps, 1));
	users = palloc(sizeof(Datum) * Max(r.napps, 1));
	dlnull = palloc(sizeof(bool) * Max(r.napps, 1));
	ulnull = palloc(sizeof(bool) * Max(r.napps, 1));
	for (i = 0; i < r.napps; i++)
	{
		dl[i] = exact_sum_numeric(&r.app_dl[i], &dlnull[i]);
		ul[i] = exact_sum_numeric(&r.app_ul[i], &ulnull[i]);
		users[i] = Int64GetDatum(r.app_users[i]);
	}

	memset(rnulls, 0, sizeof(rnulls));
	result[0] = Int64GetDatum(r.rows);
	result[1] = Int64GetDatum(r.rows_nosub);
	result[2] = Int64GetDatum(r.users);
	result[3] = Int64GetDatum(r.rejected);
	result[4] = make_array(tm, NULL, ntop, TEXTOID);
	result[5] = make_array(tr, NULL, ntop, INT4OID);
	result[6] = make_array(tmsisdn, NULL, ntop, TEXTOID);
	result[7] = make_array(tv, NULL, ntop, NUMERICOID);
	result[8] = make_array(dl, dlnull, r.napps, NUMERICOID);
	result[9] = make_array(ul, ulnull, r.napps, NUMERICOID);
	result[10] = make_array(users, NULL, r.napps, INT8OID);
	result[11] = make_array(ap, NULL, napptop, INT4OID);
	result[12] = make_array(ar, NULL, napptop, INT4OID);
	result[13] = make_array(amsisdn, NULL, napptop, TEXTOID);
	result[14] = make_array(av, NULL, napptop, NUMERICOID);
	result[15] = Int64GetDatum(r.rows_left_out);
	rnulls[15] = !r.window;

	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, result, rnulls)));
}

/*
 * Read an unsigned decimal of min_digits to max_digits digits at *p into
 * *value, moving *p past it; false when there are not that many digits.
 */
static bool
read_digits(const char **p, int min_digits, int max_digits, int *value)
{
	int			n = 0;
	int			v = 0;

	while (n < max_digits && **p >= '0' && **p <= '9')
	{
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	*value = v;
	return n >= min_digits;
}

/*
 * engage.parse_start_time(text) returns timestamp: the start of a session
 * as TellCo's export writes it, M/D/YYYY H:MM (4/23/2019 14:35), seconds
 * optional (M/D/YYYY H:MM:SS).  NULL for a text of any other form or a
 * date or time that does not exist (2/30/2019, 24:00): run_analysis counts
 * such rows and leaves them out of a time window, it never fails on them.
 */
PG_FUNCTION_INFO_V1(engage_parse_start_time);
Datum
engage_parse_start_time(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	int			len = VARSIZE_ANY_EXHDR(t);
	char		buf[32];
	const char *p = buf;
	struct pg_tm tm;
	int			sec = 0;
	Timestamp	result;

	/* the longest valid form, 12/31/2019 23:59:59, has 19 characters */
	if (len > 19)
		PG_RETURN_NULL();
	memcpy(buf, VARDATA_ANY(t), len);
	buf[len] = '\0';

	memset(&tm, 0, sizeof(tm));
	if (!read_digits(&p, 1, 2, &tm.tm_mon) || *p++ != '/' ||
		!read_digits(&p, 1, 2, &tm.tm_mday) || *p++ != '/' ||
		!read_digits(&p, 4, 4, &tm.tm_year) || *p++ != ' ' ||
		!read_digits(&p, 1, 2, &tm.tm_hour) || *p++ != ':' ||
		!read_digits(&p, 2, 2, &tm.tm_min))
		PG_RETURN_NULL();
	if (*p == ':')
	{
		p++;
		if (!read_digits(&p, 2, 2, &sec))
			PG_RETURN_NULL();
	}
	if (*p != '\0')
		PG_RETURN_NULL();
	if (tm.tm_year < 1 || tm.tm_mon < 1 || tm.tm_mon > MONTHS_PER_YEAR ||
		tm.tm_mday < 1 || tm.tm_mday > day_tab[isleap(tm.tm_year)][tm.tm_mon - 1] ||
		tm.tm_hour > 23 || tm.tm_min > 59 || sec > 59)
		PG_RETURN_NULL();
	tm.tm_sec = sec;
	if (tm2timestamp(&tm, 0, NULL, &result) != 0 || !IS_VALID_TIMESTAMP(result))
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMP(result);
}
