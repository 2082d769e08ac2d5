/*-------------------------------------------------------------------------
 *
 * run_points.c
 *	  The points of a run captured by run_analysis's per-user step for its
 *	  K-means step (see run_points.h).
 *
 * On one node, run_analysis's K-means step (store_cluster_model) fits the
 * model on the points query of the run's users, which reads back every row
 * that the per-user step (store_user_engagement) has just written: at 7 M
 * users a bitmap scan of the table, a minimal tuple copied per user, the
 * numerics converted.  The per-user step sees the same values as it writes
 * them, so it keeps what the points query would return for each row, in
 * the order written: the MSISDN's text and sessions, COALESCE(duration_ms,
 * 0) and COALESCE(total_bytes, 0) as double precision, converted as the
 * points query's reader converts them (engage_numeric_to_double).
 * store_cluster_model puts them in the canonical order, which does not
 * depend on the order read, and fits: the same points, so the same model
 * bit for bit.
 *
 * The cluster statistics (min, max, avg, sum of each metric and the hours
 * of activity by cluster) would read the same rows back once more, after
 * the fit.  So the capture also keeps, in the order written, each row's
 * sessions, duration_ms and total_bytes exactly, with their NULLs, and its
 * histogram of hours (about 30 bytes per user): when every stored duration
 * and traffic is an integer of display scale 0 up to 2^53 (engagement_agg's
 * sums of integral columns), whose double is the point's and whose numeric
 * int8_numeric makes again, digit for digit.  Anything else gives these
 * values up (the points stay), and the statistics read the rows.  Taking
 * the points leaves them; engage_run_stats_sums adds them up by cluster
 * with exact integer sums (numeric past 2^63) once.
 *
 * At most one capture is kept, for the (sub)transaction that made it: the
 * end of that (sub)transaction (commit or abort; the rows may be gone)
 * frees it, and so does the next capture or a K-means step that does not
 * take it.  Its memory counts against engage.max_memory (engage_held_bytes)
 * while it is kept; a capture that would pass the limit is given up, and
 * the K-means step reads the points query as before.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "utils/fmgrprotos.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "engage.h"
#include "run_points.h"
#include "core/core.h"

typedef struct RunPoints
{
	MemoryContext cxt;			/* holds the capture and its arrays */
	int64		run_id;
	SubTransactionId subid;		/* the (sub)transaction that made it */
	bool		complete;		/* engage_run_points_finish was called */
	int64		n;
	Size		datacap;		/* bytes of room of data */
	Size		offcap;			/* bytes of room of keyoff */
	double	   *data;			/* n x ENGAGE_RUN_POINTS_D */
	Size	   *keyoff;			/* n: each key's offset in keybuf */
	char	   *keybuf;			/* the keys, text values one after the
								 * other (short headers when they fit) */
	Size		keybytes;		/* used in keybuf */
	Size		keycap;
	Size		bytes;			/* the arrays' room: counted in
								 * engage_held_bytes */
} RunPoints;

/*
 * The same rows' exact values for the cluster statistics, in the order
 * written, in a context of their own: taking the points leaves them, for
 * engage_run_stats_sums after the fit.
 */
typedef struct RunStats
{
	MemoryContext cxt;
	int64		run_id;
	SubTransactionId subid;
	bool		complete;
	int64		n;
	Size		valuecap;		/* bytes of room of values */
	Size		flagcap;		/* bytes of room of flags */
	int64	   *values;			/* n x 3: sessions, duration_ms,
								 * total_bytes (0 when NULL) */
	uint8	   *flags;			/* n: RUN_STATS_*_NULL */
	uint8	   *hours;			/* each row's histogram: a length byte
								 * (RUN_STATS_NO_HOURS: NULL), its bytes */
	Size		hourbytes;
	Size		hourcap;
	Size		bytes;			/* counted in engage_held_bytes */
} RunStats;

#define RUN_STATS_DURATION_NULL	0x01
#define RUN_STATS_TOTAL_NULL	0x02
#define RUN_STATS_NO_HOURS		0xFF
/* the flag of each metric's NULL (sessions is never NULL) */
static const uint8 metric_null[3] = {0, RUN_STATS_DURATION_NULL, RUN_STATS_TOTAL_NULL};
/* the longest histogram of hours_agg: 24 hours, 1 + 9 bytes each */
#define RUN_STATS_MAX_HOURS		240
/* 2^53: the largest value whose double the points hold exactly */
#define TWO_POW_53_STATS		INT64CONST(9007199254740992)

static RunPoints *run_points = NULL;
static RunStats *run_stats = NULL;
static bool run_points_callbacks = false;

/* Free the exact values kept for the statistics, if any */
static void
run_stats_free(void)
{
	if (run_stats == NULL)
		return;
	engage_held_bytes -= run_stats->bytes;
	MemoryContextDelete(run_stats->cxt);
	run_stats = NULL;
}

/* Give up the statistics' values, if any (see run_points.h) */
void
engage_run_stats_release(void)
{
	run_stats_free();
}

/* Free the capture, if any: the points and the statistics' values */
void
engage_run_points_free(void)
{
	run_stats_free();
	if (run_points == NULL)
		return;
	engage_held_bytes -= run_points->bytes;
	MemoryContextDelete(run_points->cxt);
	run_points = NULL;
}

/* Transaction callback: nothing is kept past its transaction */
static void
run_points_xact(XactEvent event, void *arg)
{
	(void) event;
	(void) arg;
	engage_run_points_free();
}

/* Subtransaction callback: free what the ending subtransaction captured */
static void
run_points_subxact(SubXactEvent event, SubTransactionId mySubid,
				   SubTransactionId parentSubid, void *arg)
{
	(void) parentSubid;
	(void) arg;
	if (event != SUBXACT_EVENT_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB &&
		event != SUBXACT_EVENT_PRE_COMMIT_SUB)
		return;
	if (run_points != NULL && run_points->subid == mySubid)
		engage_run_points_free();
	if (run_stats != NULL && run_stats->subid == mySubid)
		run_stats_free();
}

void
engage_run_points_start(int64 run_id)
{
	MemoryContext cxt;
	RunPoints  *c;

	/*
	 * A second per-user step of the same run in the transaction would add
	 * rows to those of the first: its points are not all captured, so
	 * nothing is.
	 */
	if ((run_points != NULL && run_points->run_id == run_id) ||
		(run_stats != NULL && run_stats->run_id == run_id))
	{
		engage_run_points_free();
		return;
	}
	engage_run_points_free();
	if (!run_points_callbacks)
	{
		RegisterXactCallback(run_points_xact, NULL);
		RegisterSubXactCallback(run_points_subxact, NULL);
		run_points_callbacks = true;
	}
	cxt = AllocSetContextCreate(TopMemoryContext, "engage run points",
								ALLOCSET_DEFAULT_SIZES);
	c = MemoryContextAllocZero(cxt, sizeof(RunPoints));
	c->cxt = cxt;
	c->run_id = run_id;
	c->subid = GetCurrentSubTransactionId();
	run_points = c;

	cxt = AllocSetContextCreate(TopMemoryContext, "engage run statistics values",
								ALLOCSET_DEFAULT_SIZES);
	run_stats = MemoryContextAllocZero(cxt, sizeof(RunStats));
	run_stats->cxt = cxt;
	run_stats->run_id = run_id;
	run_stats->subid = c->subid;
}

/*
 * Room for need bytes in the buffer *p of *cap bytes (NULL, 0: none yet),
 * in cxt: twice its room, or need and slack bytes if more; the growth
 * counted in *held and engage_held_bytes.  False, nothing changed, when
 * it would pass engage.max_memory.  A huge chunk is its own malloc block,
 * which realloc grows without a copy as often as not.
 */
static bool
held_grow(MemoryContext cxt, void **p, Size *cap, Size need, Size slack,
		  Size *held)
{
	Size		room;

	if (need <= *cap)
		return true;
	room = Max(*cap * 2, need + slack);
	if ((double) engage_held_bytes + (double) (room - *cap) >
		(double) engage_max_memory_kb * 1024.0)
		return false;
	*p = *p == NULL ? MemoryContextAllocHuge(cxt, room) : repalloc_huge(*p, room);
	*held += room - *cap;
	engage_held_bytes += room - *cap;
	*cap = room;
	return true;
}

/* Room for as many more of an array's elements when it grows */
#define RUN_GROW_ELEMENTS 65536

/*
 * Room for one more point and a key of keylen bytes; false when it would
 * pass engage.max_memory.
 */
static bool
run_points_grow(RunPoints *c, Size keylen)
{
	Size		point = ENGAGE_RUN_POINTS_D * sizeof(double);

	return held_grow(c->cxt, (void **) &c->data, &c->datacap, (c->n + 1) * point,
					 (RUN_GROW_ELEMENTS - 1) * point, &c->bytes) &&
		held_grow(c->cxt, (void **) &c->keyoff, &c->offcap, (c->n + 1) * sizeof(Size),
				  (RUN_GROW_ELEMENTS - 1) * sizeof(Size), &c->bytes) &&
		held_grow(c->cxt, (void **) &c->keybuf, &c->keycap, c->keybytes + keylen,
				  RUN_GROW_ELEMENTS, &c->bytes);
}

/*
 * Room for one more row of the statistics' values and a histogram of
 * hourlen bytes; false when it would pass engage.max_memory.
 */
static bool
run_stats_grow(RunStats *c, Size hourlen)
{
	Size		row = 3 * sizeof(int64);

	return held_grow(c->cxt, (void **) &c->values, &c->valuecap, (c->n + 1) * row,
					 (RUN_GROW_ELEMENTS - 1) * row, &c->bytes) &&
		held_grow(c->cxt, (void **) &c->flags, &c->flagcap, c->n + 1,
				  RUN_GROW_ELEMENTS - 1, &c->bytes) &&
		held_grow(c->cxt, (void **) &c->hours, &c->hourcap, c->hourbytes + 1 + hourlen,
				  RUN_GROW_ELEMENTS, &c->bytes);
}

/*
 * A stored numeric as the statistics' exact value: an integer of display
 * scale 0 and magnitude at most 2^53, which the point's double is exactly
 * and which int8_numeric gives back as the same numeric (value and display
 * scale: the statistics print the same).  NULL is 0 with its flag.
 */
static inline bool
run_stats_value(Datum value, bool isnull, int64 *out)
{
	bool		scale0;

	if (isnull)
	{
		*out = 0;
		return true;
	}
	return engage_numeric_small_int(value, out, &scale0) && scale0;
}

/*
 * The statistics' values of one row (after its point was kept).  A
 * numeric with a fraction or a display scale, a value past 2^53, a
 * histogram that is not one of hours_agg's or the memory past
 * engage.max_memory give them up (the points stay): the statistics then
 * read the table.
 */
static void
run_stats_add(const EngageRunRow *row)
{
	RunStats   *c = run_stats;
	int64		v[3];
	bytea	   *h = NULL;
	Size		hourlen = 0;

	if (c == NULL || c->complete)
		return;
	v[0] = row->sessions;
	if (row->sessions > TWO_POW_53_STATS ||
		!run_stats_value(row->duration_ms, row->duration_null, &v[1]) ||
		!run_stats_value(row->total_bytes, row->total_null, &v[2]))
	{
		run_stats_free();
		return;
	}
	if (!row->hours_null)
	{
		h = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(row->hours));
		hourlen = VARSIZE_ANY_EXHDR(h);
		if (hourlen > RUN_STATS_MAX_HOURS)
		{
			run_stats_free();
			return;
		}
	}
	if (!run_stats_grow(c, hourlen))
	{
		run_stats_free();
		return;
	}
	memcpy(c->values + c->n * 3, v, sizeof(v));
	c->flags[c->n] = (row->duration_null ? RUN_STATS_DURATION_NULL : 0) |
		(row->total_null ? RUN_STATS_TOTAL_NULL : 0);
	if (h == NULL)
		c->hours[c->hourbytes++] = RUN_STATS_NO_HOURS;
	else
	{
		c->hours[c->hourbytes++] = (uint8) hourlen;
		memcpy(c->hours + c->hourbytes, VARDATA_ANY(h), hourlen);
		c->hourbytes += hourlen;
		if ((Pointer) h != DatumGetPointer(row->hours))
			pfree(h);
	}
	c->n++;
}

void
engage_run_points_add(const EngageRunRow *row)
{
	RunPoints  *c = run_points;
	struct varlena *t;
	const char *key;
	Size		len;
	Size		keylen;
	double		x[ENGAGE_RUN_POINTS_D];
	int			j;

	if (c == NULL || c->complete)
		return;
	x[0] = (double) row->sessions;
	x[1] = row->duration;
	x[2] = row->total;
	/*
	 * A value that the points query's reader or the fit would report (not
	 * finite, beyond the core's range, negative: the log normalization's
	 * error): leave it to them, on the points read in the canonical order,
	 * which names the same point whatever the order written
	 */
	for (j = 0; j < ENGAGE_RUN_POINTS_D; j++)
		if (!isfinite(x[j]) || fabs(x[j]) > ECORE_MAX_ABS || x[j] < 0.0)
		{
			engage_run_points_free();
			return;
		}
	t = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(row->msisdn));
	key = VARDATA_ANY(t);
	len = VARSIZE_ANY_EXHDR(t);
	/* a text value as points.c keeps keys: short header when it fits */
	keylen = (len + VARHDRSZ_SHORT <= VARATT_SHORT_MAX) ?
		len + VARHDRSZ_SHORT : INTALIGN(len + VARHDRSZ) + sizeof(int32);
	if (!run_points_grow(c, keylen))
	{
		engage_run_points_free();
		return;
	}
	if (len + VARHDRSZ_SHORT <= VARATT_SHORT_MAX)
	{
		SET_VARSIZE_SHORT(c->keybuf + c->keybytes, len + VARHDRSZ_SHORT);
		memcpy(c->keybuf + c->keybytes + VARHDRSZ_SHORT, key, len);
		c->keyoff[c->n] = c->keybytes;
		c->keybytes += len + VARHDRSZ_SHORT;
	}
	else
	{
		Size		start = INTALIGN(c->keybytes);

		SET_VARSIZE(c->keybuf + start, len + VARHDRSZ);
		memcpy(c->keybuf + start + VARHDRSZ, key, len);
		c->keyoff[c->n] = start;
		c->keybytes = start + len + VARHDRSZ;
	}
	memcpy(c->data + c->n * ENGAGE_RUN_POINTS_D, x, sizeof(x));
	c->n++;
	if ((Pointer) t != DatumGetPointer(row->msisdn))
		pfree(t);
	run_stats_add(row);
}

void
engage_run_points_finish(void)
{
	if (run_points != NULL)
		run_points->complete = true;
	if (run_stats != NULL)
		run_stats->complete = true;
}

bool
engage_run_points_take(int64 run_id, MemoryContext parent, EngagePoints *pts)
{
	RunPoints  *c = run_points;
	text	  **keys;
	int64		i;

	if (c == NULL)
		return false;
	if (!c->complete || c->n == 0 || c->run_id != run_id ||
		c->subid != GetCurrentSubTransactionId())
	{
		engage_run_points_free();
		return false;
	}
	MemoryContextSetParent(c->cxt, parent);
	run_points = NULL;
	engage_held_bytes -= c->bytes;

	/* the keys' offsets become their pointers, in place */
	StaticAssertStmt(sizeof(Size) == sizeof(text *), "a pointer in place of an offset");
	keys = (text **) c->keyoff;
	for (i = 0; i < c->n; i++)
		keys[i] = (text *) (c->keybuf + c->keyoff[i]);

	memset(pts, 0, sizeof(*pts));
	pts->n = c->n;
	pts->d = ENGAGE_RUN_POINTS_D;
	pts->keys = keys;
	pts->data = c->data;
	pts->bytes = c->bytes;
	return true;
}

/* An exact sum of values of at most 2^53: in 64 bits, then numeric */
static void
run_sum_add(RunSum *s, int64 v)
{
	if (pg_add_s64_overflow(s->part, v, &s->part))
	{
		Datum		part = NumericGetDatum(int64_to_numeric(s->part));

		s->total = s->total == (Datum) 0 ? part :
			DirectFunctionCall2(numeric_add, s->total, part);
		s->part = v;
	}
}

/* The sum as a numeric (display scale 0, as sum() of such values) */
static Datum
run_sum_numeric(const RunSum *s)
{
	Datum		part = NumericGetDatum(int64_to_numeric(s->part));

	return s->total == (Datum) 0 ? part :
		DirectFunctionCall2(numeric_add, s->total, part);
}

/* Smallest and largest of a cluster's values, the first value both */
static inline void
run_min_max(int64 *min, int64 *max, int64 v, bool first)
{
	if (first || v < *min)
		*min = v;
	if (first || v > *max)
		*max = v;
}

/* Rows assigned per call of the assign function */
#define RUN_STATS_CHUNK 8192

bool
engage_run_stats_sums(int64 run_id, int k, EngageRunAssign assign, void *arg,
					  RunClusterStats *stats)
{
	RunStats   *c = run_stats;
	double	   *x;
	int32	   *labels;
	union
	{
		bytea		h;
		char		room[VARHDRSZ + RUN_STATS_MAX_HOURS];
	}			hist;
	Size		hpos = 0;
	int64		start;

	if (c == NULL)
		return false;
	if (!c->complete || c->n == 0 || c->run_id != run_id ||
		c->subid != GetCurrentSubTransactionId())
	{
		run_stats_free();
		return false;
	}
	memset(stats, 0, sizeof(RunClusterStats) * k);
	x = palloc(sizeof(double) * 3 * RUN_STATS_CHUNK);
	labels = palloc(sizeof(int32) * RUN_STATS_CHUNK);
	for (start = 0; start < c->n; start += RUN_STATS_CHUNK)
	{
		int			m = (int) Min(RUN_STATS_CHUNK, c->n - start);
		const int64 *v = c->values + start * 3;
		int			i,
					j;

		CHECK_FOR_INTERRUPTS();
		/* the points' doubles: the integers exactly, NULL as 0 */
		for (i = 0; i < 3 * m; i++)
			x[i] = (double) v[i];
		assign(arg, x, m, labels);
		for (i = 0; i < m; i++, v += 3)
		{
			RunClusterStats *cs;
			uint8		f = c->flags[start + i];
			uint8		hourlen = c->hours[hpos++];

			if (labels[i] < 0 || labels[i] >= k)
				elog(ERROR, "cluster %d of a point out of range", labels[i]);
			cs = &stats[labels[i]];
			cs->users++;
			for (j = 0; j < 3; j++)
			{
				RunMetricStats *ms = &cs->metric[j];

				if (f & metric_null[j])
					continue;
				run_min_max(&ms->min, &ms->max, v[j], ms->count == 0);
				ms->count++;
				run_sum_add(&ms->sum, v[j]);
			}
			if (hourlen != RUN_STATS_NO_HOURS)
			{
				SET_VARSIZE(&hist.h, VARHDRSZ + hourlen);
				memcpy(VARDATA(&hist.h), c->hours + hpos, hourlen);
				hpos += hourlen;
				engage_hours_add(cs->hours, &hist.h);
				cs->has_hours = true;
			}
		}
	}
	pfree(x);
	pfree(labels);
	run_stats_free();
	return true;
}

void
engage_run_stats_row(const RunClusterStats *s, int cluster, Datum *values,
					 bool *nulls)
{
	int			i,
				j;

	for (i = 0; i < ENGAGE_RUN_STATS_NATTS; i++)
		nulls[i] = false;
	values[0] = Int32GetDatum(cluster);
	values[1] = Int64GetDatum(s->users);
	/*
	 * Each metric's min, max, avg, sum (from column 2 on, 4 each): sessions
	 * as bigint, the others numeric; avg() divides its exact sum by the
	 * count, numeric_div
	 */
	for (j = 0; j < 3; j++)
	{
		const RunMetricStats *ms = &s->metric[j];
		int			at = 2 + 4 * j;
		Datum		sum;

		if (ms->count == 0)
		{
			nulls[at] = nulls[at + 1] = nulls[at + 2] = nulls[at + 3] = true;
			continue;
		}
		sum = run_sum_numeric(&ms->sum);
		values[at] = j == 0 ? Int64GetDatum(ms->min) : NumericGetDatum(int64_to_numeric(ms->min));
		values[at + 1] = j == 0 ? Int64GetDatum(ms->max) : NumericGetDatum(int64_to_numeric(ms->max));
		values[at + 2] = DirectFunctionCall2(numeric_div, sum,
											 NumericGetDatum(int64_to_numeric(ms->count)));
		values[at + 3] = sum;
	}
	values[14] = Int64GetDatum(s->metric[1].count);
	values[15] = Int64GetDatum(s->metric[2].count);
	if (s->has_hours)
		values[16] = PointerGetDatum(engage_int8_array(s->hours, 24));
	else
		nulls[16] = true;
}
