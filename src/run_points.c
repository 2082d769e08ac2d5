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
#include "utils/memutils.h"

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
	int64		cap;			/* points the arrays have room for */
	double	   *data;			/* cap x ENGAGE_RUN_POINTS_D */
	Size	   *keyoff;			/* cap: each key's offset in keybuf */
	char	   *keybuf;			/* the keys, text values one after the
								 * other (short headers when they fit) */
	Size		keybytes;		/* used in keybuf */
	Size		keycap;
	Size		bytes;			/* the arrays' room: counted in
								 * engage_held_bytes */
} RunPoints;

static RunPoints *run_points = NULL;
static bool run_points_callbacks = false;

/* Free the capture, if any */
void
engage_run_points_free(void)
{
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
	if (run_points != NULL && run_points->subid == mySubid &&
		(event == SUBXACT_EVENT_COMMIT_SUB || event == SUBXACT_EVENT_ABORT_SUB ||
		 event == SUBXACT_EVENT_PRE_COMMIT_SUB))
		engage_run_points_free();
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
	if (run_points != NULL && run_points->run_id == run_id)
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
}

/*
 * Room for one more point and a key of keylen bytes; false (nothing
 * changed) when it would pass engage.max_memory.  The arrays double: a
 * huge chunk is its own malloc block, which realloc grows without a copy
 * as often as not.
 */
static bool
run_points_grow(RunPoints *c, Size keylen)
{
	double		limit = (double) engage_max_memory_kb * 1024.0;

	if (c->n == c->cap)
	{
		int64		cap = c->cap == 0 ? 65536 : c->cap * 2;
		Size		more = (Size) (cap - c->cap) *
			(ENGAGE_RUN_POINTS_D * sizeof(double) + sizeof(Size));

		if ((double) engage_held_bytes + (double) more > limit)
			return false;
		if (c->data == NULL)
		{
			c->data = MemoryContextAllocHuge(c->cxt, cap * ENGAGE_RUN_POINTS_D * sizeof(double));
			c->keyoff = MemoryContextAllocHuge(c->cxt, cap * sizeof(Size));
		}
		else
		{
			c->data = repalloc_huge(c->data, cap * ENGAGE_RUN_POINTS_D * sizeof(double));
			c->keyoff = repalloc_huge(c->keyoff, cap * sizeof(Size));
		}
		c->cap = cap;
		c->bytes += more;
		engage_held_bytes += more;
	}
	if (c->keybytes + keylen > c->keycap)
	{
		Size		cap = Max(c->keycap * 2, c->keybytes + keylen + 65536);

		if ((double) engage_held_bytes + (double) (cap - c->keycap) > limit)
			return false;
		c->keybuf = c->keybuf == NULL ?
			MemoryContextAllocHuge(c->cxt, cap) : repalloc_huge(c->keybuf, cap);
		c->bytes += cap - c->keycap;
		engage_held_bytes += cap - c->keycap;
		c->keycap = cap;
	}
	return true;
}

void
engage_run_points_add(Datum msisdn, int64 sessions, double duration_ms,
					  double total_bytes)
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
	x[0] = (double) sessions;
	x[1] = duration_ms;
	x[2] = total_bytes;
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
	t = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(msisdn));
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
	if ((Pointer) t != DatumGetPointer(msisdn))
		pfree(t);
}

void
engage_run_points_finish(void)
{
	if (run_points != NULL)
		run_points->complete = true;
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
