/*-------------------------------------------------------------------------
 *
 * points.c
 *	  The points stage of a clustering: reading the points of a query,
 *	  validating them, putting them in order, within engage.max_memory.
 *
 * The query's first column is the key of each point (any type; kept in its
 * text form), its other columns are the numeric features (smallint,
 * integer, bigint, real, double precision or numeric), or it has one
 * double precision[] column holding all the features.  The query runs
 * read-only, with the caller's rights, and its rows go straight from the
 * executor to a DestReceiver that appends them to one dense row-major
 * float8 matrix and one buffer of keys (as text values, ready to be
 * returned).  Every growth is checked first against engage.max_memory, so a
 * query too large for it fails with a clear error before anything big is
 * allocated.  Each point is validated as it arrives (a key, finite
 * features, as many as the others').
 *
 * The clustering functions then want the points in a canonical order (by a
 * hash of key and features), so that their result depends on the set of
 * points only, not on the order the query returned them in, which a
 * parallel plan or a synchronised scan changes; kmeans_assign, which
 * treats each point alone, keeps the query's order.
 *
 * engage_read_point_rows reads the points of kmeans_cluster_rows: besides
 * the double precision features, each point keeps its whole row (the key
 * and every column, as the query returned them, NULLs and all) as a
 * minimal tuple in one buffer, with no text conversion and no allocation per row, so that
 * the rows can be returned with their clusters after one read.  The first
 * `features` columns after the key are the features; the others are
 * carried through.
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
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "tcop/dest.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/plancache.h"

#include "engage.h"
#include "points.h"

/* DestReceiver that collects the points */
typedef struct PointsReceiver
{
	DestReceiver pub;
	MemoryContext cxt;			/* where the points go */
	MemoryContext rowcxt;		/* per-row scratch, reset every row */
	TupleDesc	tupdesc;
	bool		array_mode;		/* one double precision[] feature column */
	Oid		   *coltypes;
	FmgrInfo	keyout;			/* output function of the key */
	int			d;				/* features (0 until known, in array mode) */
	int64		n;				/* points read */
	int64		cap;			/* points the matrix has room for */
	double	   *data;			/* n x d */
	Size	   *keyoff;			/* offset of each key (or row) in keybuf */
	char	   *keybuf;
	Size		keybytes;
	Size		keycap;
	bool		keep_rows;		/* engage_read_point_rows: pack whole rows */
	int			features;		/* with keep_rows: feature columns, -1 all */
	uint64	   *keyhash;		/* with keep_rows: hash of each key's text */
	bool		key_bytes;		/* with keep_rows: the key is text, whose
								 * bytes are its text form */
} PointsReceiver;

/* Is this a feature column type that converts to double precision? */
static bool
is_numeric_feature_type(Oid typid)
{
	return typid == INT2OID || typid == INT4OID || typid == INT8OID ||
		typid == FLOAT4OID || typid == FLOAT8OID || typid == NUMERICOID;
}

/*
 * The on-disk layout of a numeric (PostgreSQL's src/backend/utils/adt/numeric.c,
 * unchanged since 9.1: pg_upgrade keeps data files, so it cannot change).
 * After the varlena header, a uint16 header word: its two high bits say
 * short (10), special (11: NaN, +-Infinity) or long (00 positive, 01
 * negative) format.  Short: sign bit 0x2000, display scale in 0x1F80,
 * weight in the low 7 bits (0x0040 its sign); long: the word holds sign and
 * display scale, and an int16 weight follows.  Then the base-10000 digits
 * (int16 each, 0..9999), the first one of weight `weight`: the value is
 * the sum of digit[i] * 10000^(weight - i).
 */
#define NUM_FLAGBITS_MASK	0xC000
#define NUM_POS				0x0000
#define NUM_NEG				0x4000
#define NUM_SHORT			0x8000
#define NUM_SHORT_SIGN		0x2000
#define NUM_SHORT_WSIGN		0x0040
#define NUM_SHORT_WMASK		0x003F
#define NUM_SHORT_DSCALE_MASK	0x1F80
#define NUM_SHORT_DSCALE_SHIFT	7
#define NUM_DSCALE_MASK		0x3FFF
#define NUM_NBASE			10000

/* 2^53: every integer of at most this magnitude is a double exactly */
#define TWO_POW_53			INT64CONST(9007199254740992)

/*
 * Is a numeric an integer of magnitude at most 2^53, in a layout read
 * without numeric.c?  Then *out is its value and *scale0 whether its
 * display scale is 0 (it prints without a fraction, as the same integer
 * made by int8_numeric).  False for anything else (a fraction, a larger
 * value, NaN, +-Infinity, a layout not recognised).
 */
bool
engage_numeric_small_int(Datum value, int64 *out, bool *scale0)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(value);
	const char *p;
	Size		len;
	uint16		header;
	int			weight;
	int			dscale;
	bool		negative;
	int			ndigits;
	int			i;
	int64		acc = 0;

	if (VARATT_IS_EXTENDED(v) && !VARATT_IS_SHORT(v))
		return false;			/* compressed or out of line */
	p = VARDATA_ANY(v);
	len = VARSIZE_ANY_EXHDR(v);
	if (len < sizeof(uint16))
		return false;
	memcpy(&header, p, sizeof(uint16));
	if ((header & NUM_FLAGBITS_MASK) == NUM_SHORT)
	{
		negative = (header & NUM_SHORT_SIGN) != 0;
		dscale = (header & NUM_SHORT_DSCALE_MASK) >> NUM_SHORT_DSCALE_SHIFT;
		weight = (header & NUM_SHORT_WMASK) |
			((header & NUM_SHORT_WSIGN) ? ~NUM_SHORT_WMASK : 0);
		p += sizeof(uint16);
		len -= sizeof(uint16);
	}
	else if ((header & NUM_FLAGBITS_MASK) == NUM_POS ||
			 (header & NUM_FLAGBITS_MASK) == NUM_NEG)
	{
		int16		w;

		if (len < 2 * sizeof(uint16))
			return false;
		negative = (header & NUM_FLAGBITS_MASK) == NUM_NEG;
		dscale = header & NUM_DSCALE_MASK;
		memcpy(&w, p + sizeof(uint16), sizeof(int16));
		weight = w;
		p += 2 * sizeof(uint16);
		len -= 2 * sizeof(uint16);
	}
	else
		return false;			/* NaN, +-Infinity */
	ndigits = len / sizeof(int16);
	if (ndigits == 0)
	{
		if (negative)
			return false;		/* a negative zero is never stored */
		*out = 0;
		*scale0 = dscale == 0;
		return true;
	}
	/* an integer below 10000^4 = 10^16, or something else */
	if (weight < 0 || weight > 3 || ndigits > weight + 1)
		return false;
	for (i = 0; i <= weight; i++)
	{
		int16		digit = 0;

		if (i < ndigits)
			memcpy(&digit, p + i * sizeof(int16), sizeof(int16));
		if (digit < 0 || digit >= NUM_NBASE)
			return false;
		acc = acc * NUM_NBASE + digit;
	}
	if (acc > TWO_POW_53)
		return false;
	*out = negative ? -acc : acc;
	*scale0 = dscale == 0;
	return true;
}

/*
 * A numeric as double precision, as numeric_float8_no_overflow gives it
 * (which in PostgreSQL 15 prints the numeric as text and reads the text
 * back with strtod), but without the text when the value is an integer of
 * magnitude at most 2^53 (engage_numeric_small_int): such an integer is a
 * double exactly, so the correctly rounded strtod of its decimal form and
 * the conversion of the integer give the same double, bit for bit (zero is
 * +0, the numeric having no negative zero).  Anything else (a fraction, a
 * larger value, NaN, +-Infinity, a layout not recognised) goes through
 * numeric_float8_no_overflow; a finite numeric beyond double precision
 * becomes +-DBL_MAX (too large, not infinite).
 */
double
engage_numeric_to_double(Datum value)
{
	int64		acc;
	bool		scale0;
	double		x;

	if (engage_numeric_small_int(value, &acc, &scale0))
		return (double) acc;
	x = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, value));
	if (isinf(x) && !numeric_is_inf(DatumGetNumeric(value)))
		x = copysign(DBL_MAX, x);
	return x;
}

/* A feature value as double precision */
static double
feature_to_double(Datum value, Oid typid)
{
	switch (typid)
	{
		case INT2OID:
			return (double) DatumGetInt16(value);
		case INT4OID:
			return (double) DatumGetInt32(value);
		case INT8OID:
			return (double) DatumGetInt64(value);
		case FLOAT4OID:
			return (double) DatumGetFloat4(value);
		case FLOAT8OID:
			return DatumGetFloat8(value);
		case NUMERICOID:
			return engage_numeric_to_double(value);
		default:
			elog(ERROR, "unexpected feature type %u", typid);
	}
	return 0.0;					/* keep compiler quiet */
}

/*
 * Report a NULL, NaN or infinite feature of a point (key: its text form,
 * or NULL: made from the slot's first column)
 */
static inline void
check_feature(double x, bool isnull, PointsReceiver *r, int col,
			  const char *key, TupleTableSlot *slot)
{
	const char *feature;

	if (likely(!isnull && !isnan(x) && !isinf(x)))
		return;
	if (key == NULL)
		key = OutputFunctionCall(&r->keyout, slot->tts_values[0]);
	feature = r->array_mode ? "array element" :
		NameStr(TupleDescAttr(r->tupdesc, col)->attname);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("feature \"%s\" of point \"%s\" is null", feature, key),
				 errhint("Leave such points out of the points query, or replace the NULL with coalesce().")));
	if (isnan(x))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("feature \"%s\" of point \"%s\" is NaN", feature, key),
				 errhint("Leave such points out of the points query.")));
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("feature \"%s\" of point \"%s\" is infinite", feature, key),
			 errhint("Leave such points out of the points query.")));
}

/* Check the query's columns once, when its rows start */
static void
points_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
	PointsReceiver *r = (PointsReceiver *) self;
	int			natts = typeinfo->natts;
	Oid			keyout;
	bool		keyvarlena;
	MemoryContext old;
	int			nfeat;
	int			j;

	(void) operation;
	old = MemoryContextSwitchTo(r->cxt);
	if (natts < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg_plural("the points query returns %d column, at least 2 are needed",
							   "the points query returns %d columns, at least 2 are needed",
							   natts, natts),
				 errhint("The first column is the key, the others are the features (or one double precision[] column).")));

	/* in the points' context: the executor's is gone when the rows are */
	r->tupdesc = CreateTupleDescCopy(typeinfo);
	r->coltypes = MemoryContextAlloc(r->cxt, sizeof(Oid) * natts);
	for (j = 0; j < natts; j++)
		r->coltypes[j] = TupleDescAttr(typeinfo, j)->atttypid;
	getTypeOutputInfo(r->coltypes[0], &keyout, &keyvarlena);
	fmgr_info_cxt(keyout, &r->keyout, r->cxt);
	r->key_bytes = r->keep_rows && r->coltypes[0] == TEXTOID;

	nfeat = natts - 1;
	if (r->keep_rows && r->features >= 0)
	{
		if (r->features < 1 || r->features > natts - 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("features must be between 1 and %d (the columns of the points query after the key), not %d",
							natts - 1, r->features)));
		nfeat = r->features;
	}
	r->array_mode = (nfeat == 1 && r->coltypes[1] == FLOAT8ARRAYOID);
	if (!r->array_mode)
	{
		r->d = nfeat;
		for (j = 1; j <= nfeat; j++)
			if (!is_numeric_feature_type(r->coltypes[j]))
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("feature column \"%s\" has type %s, which is not numeric",
								NameStr(TupleDescAttr(typeinfo, j)->attname),
								format_type_be(r->coltypes[j])),
						 errhint("Features are smallint, integer, bigint, real, double precision or numeric columns, or one double precision[] column: cast the column.")));
	}
	MemoryContextSwitchTo(old);
}

/* Memory held per point by the arrays of the points (not the keys' buffer) */
static Size
point_bytes(const PointsReceiver *r)
{
	return sizeof(double) * r->d + sizeof(Size) + (r->keep_rows ? sizeof(uint64) : 0);
}

/* Memory held by the points read so far */
static Size
points_bytes(const PointsReceiver *r)
{
	return r->keycap + (Size) r->cap * point_bytes(r);
}

/* Make room for one more point and a key of keylen bytes */
static void
points_grow(PointsReceiver *r, Size keylen)
{
	if (r->n == r->cap)
	{
		int64		newcap = (r->cap == 0) ? 1024 : r->cap * 2;

		engage_check_memory(points_bytes(r),
							(Size) (newcap - r->cap) * point_bytes(r));
		if (r->data == NULL)
		{
			r->data = MemoryContextAllocHuge(r->cxt, sizeof(double) * r->d * newcap);
			r->keyoff = MemoryContextAllocHuge(r->cxt, sizeof(Size) * newcap);
			if (r->keep_rows)
				r->keyhash = MemoryContextAllocHuge(r->cxt, sizeof(uint64) * newcap);
		}
		else
		{
			r->data = repalloc_huge(r->data, sizeof(double) * r->d * newcap);
			r->keyoff = repalloc_huge(r->keyoff, sizeof(Size) * newcap);
			if (r->keep_rows)
				r->keyhash = repalloc_huge(r->keyhash, sizeof(uint64) * newcap);
		}
		r->cap = newcap;
	}
	if (r->keybytes + keylen > r->keycap)
	{
		Size		newcap = Max(r->keycap * 2, r->keybytes + keylen + 65536);

		engage_check_memory(points_bytes(r), newcap - r->keycap);
		if (r->keybuf == NULL)
			r->keybuf = MemoryContextAllocHuge(r->cxt, newcap);
		else
			r->keybuf = repalloc_huge(r->keybuf, newcap);
		r->keycap = newcap;
	}
}

/*
 * Whole rows (engage_read_point_rows).  A row is kept as a minimal tuple
 * (PostgreSQL's own format: heap_fill_tuple writes it, heap_deform_tuple
 * reads it back), its varlena columns detoasted first, at a maximally
 * aligned offset of the buffer (palloc'd: maximally aligned), so that its
 * by-reference values are used in place.
 */

/* Detoast the varlena columns of a row (in the current context) */
static void
row_detoast(TupleDesc tupdesc, Datum *values, const bool *isnull)
{
	int			j;

	for (j = 0; j < tupdesc->natts; j++)
		if (!isnull[j] && TupleDescAttr(tupdesc, j)->attlen == -1)
			values[j] = PointerGetDatum(PG_DETOAST_DATUM_PACKED(values[j]));
}

/* Does the row have a NULL column? */
static bool
row_hasnull(TupleDesc tupdesc, const bool *isnull)
{
	int			j;

	for (j = 0; j < tupdesc->natts; j++)
		if (isnull[j])
			return true;
	return false;
}

/* Offset of a minimal tuple's data, as heap_form_minimal_tuple sets it */
static Size
row_hoff(TupleDesc tupdesc, bool hasnull)
{
	return MAXALIGN(SizeofMinimalTupleHeader +
					(hasnull ? BITMAPLEN(tupdesc->natts) : 0));
}

/* Bytes that the row takes in the buffer, the alignment of its start included */
static Size
row_bytes(TupleDesc tupdesc, Datum *values, bool *isnull)
{
	return MAXIMUM_ALIGNOF + row_hoff(tupdesc, row_hasnull(tupdesc, isnull)) +
		heap_compute_data_size(tupdesc, values, isnull);
}

/*
 * Form the row as a minimal tuple at the first maximally aligned offset of
 * buf from *off (in the room row_bytes asks for), as heap_form_minimal_tuple
 * does; sets *off to the tuple's start and returns its end.
 */
static Size
row_pack(TupleDesc tupdesc, Datum *values, bool *isnull, char *buf, Size *off)
{
	bool		hasnull = row_hasnull(tupdesc, isnull);
	Size		start = MAXALIGN(*off);
	Size		hoff = row_hoff(tupdesc, hasnull);
	Size		data_len = heap_compute_data_size(tupdesc, values, isnull);
	MinimalTuple tuple = (MinimalTuple) (buf + start);

	/* heap_fill_tuple leaves alignment padding as it finds it: zero it */
	memset(tuple, 0, hoff + data_len);
	tuple->t_len = hoff + data_len;
	HeapTupleHeaderSetNatts(tuple, tupdesc->natts);
	tuple->t_hoff = hoff + MINIMAL_TUPLE_OFFSET;
	heap_fill_tuple(tupdesc, values, isnull, (char *) tuple + hoff, data_len,
					&tuple->t_infomask, hasnull ? tuple->t_bits : NULL);
	*off = start;
	return start + hoff + data_len;
}

/*
 * The columns of point i's row (engage_read_point_rows), into values and
 * isnull (natts each); by-reference values point into the points' buffer.
 */
void
engage_point_row(const EngagePoints *pts, int64 i, Datum *values, bool *isnull)
{
	MinimalTuple tuple = (MinimalTuple) (pts->rowbuf + pts->rowoff[i]);
	HeapTupleData htup;

	/* a minimal tuple read as a heap tuple, as ExecStoreMinimalTuple does */
	htup.t_len = tuple->t_len + MINIMAL_TUPLE_OFFSET;
	htup.t_data = (HeapTupleHeader) ((char *) tuple - MINIMAL_TUPLE_OFFSET);
	heap_deform_tuple(&htup, pts->tupdesc, values, isnull);
}

/*
 * The key of point i read with its row (engage_read_point_rows) when the
 * key column is text: its bytes (its text form, not terminated, in the
 * points' buffer) and their number in *len, read from the row's first
 * column without deforming the others.  NULL when the key is not text.
 */
const char *
engage_point_key_bytes(const EngagePoints *pts, int64 i, size_t *len)
{
	MinimalTuple tuple;
	HeapTupleData htup;
	struct varlena *t;
	bool		isnull;

	if (pts->rowbuf == NULL || TupleDescAttr(pts->tupdesc, 0)->atttypid != TEXTOID)
		return NULL;
	tuple = (MinimalTuple) (pts->rowbuf + pts->rowoff[i]);
	htup.t_len = tuple->t_len + MINIMAL_TUPLE_OFFSET;
	htup.t_data = (HeapTupleHeader) ((char *) tuple - MINIMAL_TUPLE_OFFSET);
	t = (struct varlena *) DatumGetPointer(heap_getattr(&htup, 1, pts->tupdesc, &isnull));
	Assert(!isnull);			/* a NULL key is refused when read */
	*len = VARSIZE_ANY_EXHDR(t);
	return VARDATA_ANY(t);
}

/* The text form of point i's key (palloc'd) */
char *
engage_point_key(const EngagePoints *pts, int64 i)
{
	Datum	   *values;
	bool	   *isnull;
	char	   *key;

	if (pts->rowbuf == NULL)
		return text_to_cstring(pts->keys[i]);
	values = palloc(sizeof(Datum) * pts->tupdesc->natts);
	isnull = palloc(sizeof(bool) * pts->tupdesc->natts);
	engage_point_row(pts, i, values, isnull);
	key = OutputFunctionCall(pts->keyout, values[0]);
	pfree(values);
	pfree(isnull);
	return key;
}

/* Append the key of a point as a text value: short header when it fits */
static void
append_key(PointsReceiver *r, const char *key)
{
	Size		len = strlen(key);
	Size		keylen;

	keylen = (len + VARHDRSZ_SHORT <= VARATT_SHORT_MAX) ?
		len + VARHDRSZ_SHORT : INTALIGN(len + VARHDRSZ) + sizeof(int32);
	points_grow(r, keylen);
	if (len + VARHDRSZ_SHORT <= VARATT_SHORT_MAX)
	{
		SET_VARSIZE_SHORT(r->keybuf + r->keybytes, len + VARHDRSZ_SHORT);
		memcpy(r->keybuf + r->keybytes + VARHDRSZ_SHORT, key, len);
		r->keyoff[r->n] = r->keybytes;
	}
	else
	{
		Size		start = INTALIGN(r->keybytes);

		SET_VARSIZE(r->keybuf + start, len + VARHDRSZ);
		memcpy(r->keybuf + start + VARHDRSZ, key, len);
		r->keyoff[r->n] = start;
		keylen = start - r->keybytes + len + VARHDRSZ;
	}
	r->keybytes += keylen;
}

/*
 * Append the whole row of a point (in the row's memory context), and the
 * hash of its key's text form, which the canonical order starts from: of
 * key, or with key NULL (a text key) of the key's bytes, the same.
 */
static void
append_row(PointsReceiver *r, TupleTableSlot *slot, const char *key)
{
	int			natts = r->tupdesc->natts;
	Datum	   *values = palloc(sizeof(Datum) * natts);
	Size		off;

	memcpy(values, slot->tts_values, sizeof(Datum) * natts);
	row_detoast(r->tupdesc, values, slot->tts_isnull);
	points_grow(r, row_bytes(r->tupdesc, values, slot->tts_isnull));
	off = r->keybytes;
	r->keybytes = row_pack(r->tupdesc, values, slot->tts_isnull, r->keybuf, &off);
	r->keyoff[r->n] = off;
	if (key != NULL)
		r->keyhash[r->n] = hash_bytes_extended((const unsigned char *) key,
											   strlen(key), 0);
	else
	{
		const struct varlena *t = (const struct varlena *) DatumGetPointer(values[0]);

		r->keyhash[r->n] = hash_bytes_extended((const unsigned char *) VARDATA_ANY(t),
											   VARSIZE_ANY_EXHDR(t), 0);
	}
}

/* Append one row of the query as a point */
static bool
points_receive(TupleTableSlot *slot, DestReceiver *self)
{
	PointsReceiver *r = (PointsReceiver *) self;
	MemoryContext old;
	char	   *key;
	ArrayType  *arr = NULL;
	double	   *row;
	int			j;

	if ((r->n & 4095) == 0)
		CHECK_FOR_INTERRUPTS();
	slot_getallattrs(slot);
	old = MemoryContextSwitchTo(r->rowcxt);

	if (slot->tts_isnull[0])
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the points query returned a null key"),
				 errhint("Leave rows without a key out, for example with WHERE key IS NOT NULL.")));
	/* a text key's bytes are its text form: made only for a message */
	key = (r->key_bytes && !r->array_mode) ? NULL :
		OutputFunctionCall(&r->keyout, slot->tts_values[0]);

	if (r->array_mode)
	{
		int			dim;

		if (slot->tts_isnull[1])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the features of point \"%s\" are null", key)));
		arr = DatumGetArrayTypeP(slot->tts_values[1]);
		if (ARR_NDIM(arr) != 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("the features of point \"%s\" must be a one-dimensional array",
							key)));
		if (ARR_HASNULL(arr) && array_contains_nulls(arr))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the features of point \"%s\" contain a null", key),
					 errdetail("Feature arrays must not contain nulls.")));
		dim = ARR_DIMS(arr)[0];
		if (r->d == 0)
			r->d = dim;
		else if (dim != r->d)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg_plural("point \"%s\" has %d feature, the points before it have %d",
								   "point \"%s\" has %d features, the points before it have %d",
								   dim, key, dim, r->d)));
	}

	if (r->keep_rows)
		append_row(r, slot, key);
	else
		append_key(r, key);

	row = r->data + r->n * r->d;
	if (r->array_mode)
	{
		double	   *vals = (double *) ARR_DATA_PTR(arr);

		for (j = 0; j < r->d; j++)
		{
			check_feature(vals[j], false, r, 1, key, slot);
			row[j] = vals[j];
		}
	}
	else
	{
		for (j = 0; j < r->d; j++)
		{
			bool		isnull = slot->tts_isnull[j + 1];
			double		x = isnull ? 0.0 :
				feature_to_double(slot->tts_values[j + 1], r->coltypes[j + 1]);

			check_feature(x, isnull, r, j + 1, key, slot);
			row[j] = x;
		}
	}
	r->n++;
	MemoryContextSwitchTo(old);
	MemoryContextReset(r->rowcxt);
	return true;
}

/* Nothing to do at the end of the rows or on destruction */
static void
points_noop(DestReceiver *self)
{
	(void) self;
}

/* Sort entry: a hash of the point, then its index */
typedef struct PointOrder
{
	uint64		hash;
	int64		index;
} PointOrder;

/* Full comparison of two points: key's text form, then features (bit patterns) */
static int
point_cmp_full(const EngagePoints *pts, int64 a, int64 b)
{
	const char *ka;
	const char *kb;
	int			la;
	int			lb;
	int			c;

	if (pts->rowbuf == NULL)
	{
		ka = VARDATA_ANY(pts->keys[a]);
		kb = VARDATA_ANY(pts->keys[b]);
		la = VARSIZE_ANY_EXHDR(pts->keys[a]);
		lb = VARSIZE_ANY_EXHDR(pts->keys[b]);
	}
	else if (TupleDescAttr(pts->tupdesc, 0)->atttypid == TEXTOID)
	{
		size_t		lena,
					lenb;

		ka = engage_point_key_bytes(pts, a, &lena);
		kb = engage_point_key_bytes(pts, b, &lenb);
		la = (int) lena;
		lb = (int) lenb;
	}
	else
	{
		ka = engage_point_key(pts, a);
		kb = engage_point_key(pts, b);
		la = strlen(ka);
		lb = strlen(kb);
	}
	c = memcmp(ka, kb, Min(la, lb));
	if (c != 0)
		return c;
	if (la != lb)
		return la < lb ? -1 : 1;
	return memcmp(pts->data + a * pts->d, pts->data + b * pts->d,
				  sizeof(double) * pts->d);
}

/* qsort_arg comparator of PointOrder: hash, then the points themselves */
static int
point_order_cmp(const void *pa, const void *pb, void *arg)
{
	const PointOrder *a = (const PointOrder *) pa;
	const PointOrder *b = (const PointOrder *) pb;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	return point_cmp_full((const EngagePoints *) arg, a->index, b->index);
}

/* Mix a 64-bit value into a hash (the splitmix64 finaliser) */
static inline uint64
mix64(uint64 h, uint64 v)
{
	h ^= v + UINT64CONST(0x9e3779b97f4a7c15) + (h << 6) + (h >> 2);
	h ^= h >> 30;
	h *= UINT64CONST(0xbf58476d1ce4e5b9);
	h ^= h >> 27;
	h *= UINT64CONST(0x94d049bb133111eb);
	h ^= h >> 31;
	return h;
}

/*
 * Put the points in the canonical order (by a 64-bit hash of key and
 * features; equal hashes by key and features; the key by its text form,
 * so that rows read whole come in the same order), in their memory context,
 * after checking the memory it takes (two sort arrays and a second copy of
 * the points) against engage.max_memory.  LSD radix sort on the hash, 12
 * bits a pass (cache-friendly buckets) over the high 48 bits, then qsort of
 * the (rare) runs of equal high bits.  perm (n, or NULL) receives, for each
 * position of the order, the point's index before it.
 */
static void
canonical_order(EngagePoints *pts, MemoryContext cxt, int64 *perm)
{
	int64		n = pts->n;
	int			d = pts->d;
	PointOrder *a;
	PointOrder *b;
	int64	   *count;
	double	   *data;
	text	  **keys = NULL;
	Size	   *rowoff = NULL;
	int			pass;
	int			j;
	int64		i;
	int64		run;

	engage_check_memory(pts->bytes,
						(Size) n * (2 * sizeof(PointOrder) + sizeof(double) * d + sizeof(Size)));
	a = MemoryContextAllocHuge(cxt, sizeof(PointOrder) * n);
	b = MemoryContextAllocHuge(cxt, sizeof(PointOrder) * n);
	count = MemoryContextAlloc(cxt, sizeof(int64) * 4096);
	for (i = 0; i < n; i++)
	{
		uint64		h = pts->keyhash != NULL ? pts->keyhash[i] :
			hash_bytes_extended((const unsigned char *) VARDATA_ANY(pts->keys[i]),
								VARSIZE_ANY_EXHDR(pts->keys[i]), 0);
		const double *x = pts->data + i * d;

		for (j = 0; j < d; j++)
		{
			uint64		bits;

			memcpy(&bits, &x[j], sizeof(bits));
			h = mix64(h, bits);
		}
		a[i].hash = h;
		a[i].index = i;
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	if (pts->keyhash != NULL)
	{
		pfree(pts->keyhash);
		pts->keyhash = NULL;
	}
	for (pass = 0; pass < 4; pass++)
	{
		int			shift = 16 + pass * 12;
		int64		sum = 0;
		PointOrder *tmp;

		CHECK_FOR_INTERRUPTS();
		memset(count, 0, sizeof(int64) * 4096);
		for (i = 0; i < n; i++)
			count[(a[i].hash >> shift) & 0xFFF]++;
		for (i = 0; i < 4096; i++)
		{
			int64		c = count[i];

			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
		{
			b[count[(a[i].hash >> shift) & 0xFFF]++] = a[i];
			if ((i & 65535) == 0)
				CHECK_FOR_INTERRUPTS();
		}
		tmp = a;
		a = b;
		b = tmp;
	}
	/* equal hashes: order by the points themselves */
	for (i = 0; i < n; i = run)
	{
		for (run = i + 1; run < n && (a[run].hash >> 16) == (a[i].hash >> 16); run++)
			;
		if (run - i > 1)
			qsort_arg(a + i, run - i, sizeof(PointOrder), point_order_cmp, pts);
	}

	/* permute keys (or rows) and data */
	pfree(b);
	data = MemoryContextAllocHuge(cxt, sizeof(double) * d * n);
	if (pts->rowbuf == NULL)
		keys = MemoryContextAllocHuge(cxt, sizeof(text *) * n);
	else
		rowoff = MemoryContextAllocHuge(cxt, sizeof(Size) * n);
	for (i = 0; i < n; i++)
	{
		if (i + ENGAGE_PREFETCH_AHEAD < n)
		{
			engage_prefetch(pts->data + a[i + ENGAGE_PREFETCH_AHEAD].index * d);
			if (keys != NULL)
				engage_prefetch(pts->keys[a[i + ENGAGE_PREFETCH_AHEAD].index]);
		}
		memcpy(data + i * d, pts->data + a[i].index * d, sizeof(double) * d);
		if (perm != NULL)
			perm[i] = a[i].index;
		if (keys != NULL)
			keys[i] = pts->keys[a[i].index];
		else
			rowoff[i] = pts->rowoff[a[i].index];
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	pfree(pts->data);
	pfree(a);
	pfree(count);
	pts->data = data;
	if (keys != NULL)
	{
		pfree(pts->keys);
		pts->keys = keys;
	}
	else
	{
		pfree(pts->rowoff);
		pts->rowoff = rowoff;
	}
}

/*
 * Prepare the points query and check that it is one SELECT that neither
 * writes (WITH ... INSERT) nor locks rows (FOR UPDATE).  Inside SPI.
 */
static SPIPlanPtr
prepare_points_query(const char *query)
{
	SPIPlanPtr	plan;
	List	   *sources;
	CachedPlanSource *source;
	Query	   *parsed;

	plan = SPI_prepare(query, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	/* a single SELECT; read-only execution refuses data changes anyway */
	sources = SPI_plan_get_plan_sources(plan);
	if (list_length(sources) != 1 ||
		((CachedPlanSource *) linitial(sources))->commandTag != CMDTAG_SELECT ||
		!SPI_is_cursor_plan(plan))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the points query must be one SELECT"),
				 errhint("Pass a SELECT whose first column is the key and whose other columns are the features.")));
	source = (CachedPlanSource *) linitial(sources);
	parsed = list_length(source->query_list) == 1 ?
		linitial_node(Query, source->query_list) : NULL;
	if (parsed != NULL && (parsed->hasModifyingCTE || parsed->rowMarks != NIL))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the points query must be one SELECT"),
				 errdetail(parsed->hasModifyingCTE ?
						   "Its WITH clause changes data." :
						   "It locks rows (FOR UPDATE or FOR SHARE)."),
				 errhint("Pass a SELECT whose first column is the key and whose other columns are the features.")));
	return plan;
}

/*
 * Run the prepared points query into the receiver, in read-only mode
 * (transaction_read_only, restored on return or error, as a function's SET
 * clause is), so that functions it calls cannot change data either:
 * "cannot execute INSERT in a read-only transaction".  Inside SPI.
 */
static void
run_points_query(SPIPlanPtr plan, PointsReceiver *r)
{
	SPIExecuteOptions options;
	int			nestlevel;
	int			rc;

	memset(&options, 0, sizeof(options));
	options.read_only = true;
	options.dest = &r->pub;

	nestlevel = NewGUCNestLevel();
	(void) set_config_option("transaction_read_only", "on", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	rc = SPI_execute_plan_extended(plan, &options);
	AtEOXact_GUC(true, nestlevel);
	/* with a DestNone receiver SPI reports a SELECT as SPI_OK_UTILITY */
	if (rc != SPI_OK_SELECT && rc != SPI_OK_UTILITY)
		elog(ERROR, "points query failed: %s", SPI_result_code_string(rc));
}

/*
 * Read the points of `query` into `points` (see engage_read_points); with
 * keep_rows, every column of each point's row too, the first `features`
 * (-1: all) after the key being the features.
 */
static void
read_points(const char *query, EngagePointsOrder order, bool keep_rows,
			int features, EngagePoints *points)
{
	PointsReceiver r;
	SPIPlanPtr	plan;
	int			j;
	int64		i;

	memset(&r, 0, sizeof(r));
	r.pub.receiveSlot = points_receive;
	r.pub.rStartup = points_startup;
	r.pub.rShutdown = points_noop;
	r.pub.rDestroy = points_noop;
	r.pub.mydest = DestNone;
	r.cxt = CurrentMemoryContext;
	r.rowcxt = AllocSetContextCreate(CurrentMemoryContext, "engage points row",
									 ALLOCSET_SMALL_SIZES);
	r.keep_rows = keep_rows;
	r.features = features;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = prepare_points_query(query);
	run_points_query(plan, &r);

	if (r.n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the points query returned no rows"),
				 errhint("Check the query's WHERE clause and the table it reads.")));

	points->feature_names = MemoryContextAlloc(r.cxt, sizeof(char *) * r.d);
	for (j = 0; j < r.d; j++)
		points->feature_names[j] = r.array_mode ?
			MemoryContextStrdup(r.cxt, psprintf("f%d", j + 1)) :
			MemoryContextStrdup(r.cxt, NameStr(TupleDescAttr(r.tupdesc, j + 1)->attname));
	SPI_finish();
	MemoryContextDelete(r.rowcxt);

	points->n = r.n;
	points->d = r.d;
	if (keep_rows)
	{
		/* the arrays and the buffer cut to what they hold */
		points->keys = NULL;
		points->data = repalloc_huge(r.data, sizeof(double) * r.d * r.n);
		points->rowoff = repalloc_huge(r.keyoff, sizeof(Size) * r.n);
		points->keyhash = repalloc_huge(r.keyhash, sizeof(uint64) * r.n);
		points->rowbuf = repalloc_huge(r.keybuf, Max(r.keybytes, 1));
		points->tupdesc = r.tupdesc;
		points->keyout = MemoryContextAlloc(r.cxt, sizeof(FmgrInfo));
		fmgr_info_copy(points->keyout, &r.keyout, r.cxt);
		points->bytes = Max(r.keybytes, 1) +
			(Size) r.n * (sizeof(double) * r.d + sizeof(Size) + sizeof(uint64));
	}
	else
	{
		points->keys = MemoryContextAllocHuge(r.cxt, sizeof(text *) * r.n);
		for (i = 0; i < r.n; i++)
			points->keys[i] = (text *) (r.keybuf + r.keyoff[i]);
		pfree(r.keyoff);
		points->data = r.data;
		points->rowbuf = NULL;
		points->rowoff = NULL;
		points->keyhash = NULL;
		points->tupdesc = NULL;
		points->keyout = NULL;
		points->bytes = r.keycap + sizeof(text *) * r.n + sizeof(double) * r.d * r.cap;
	}

	if (order == ENGAGE_POINTS_CANONICAL_ORDER)
		canonical_order(points, r.cxt, NULL);
}

/*
 * The points stage: run `query`, read and validate its points into
 * `points`, in the memory context current at the call, and put them in
 * `order`; every allocation is checked against engage.max_memory first.
 */
void
engage_read_points(const char *query, EngagePointsOrder order,
				   EngagePoints *points)
{
	read_points(query, order, false, -1, points);
}

/*
 * The points stage of kmeans_cluster_rows: as engage_read_points in the
 * canonical order, each point keeping its whole row (engage_point_row
 * returns it); the first `features` columns after the key (-1: all of
 * them) are the features, the others are only carried.
 */
void
engage_read_point_rows(const char *query, int features, EngagePoints *points)
{
	read_points(query, ENGAGE_POINTS_CANONICAL_ORDER, true, features, points);
}

/*
 * Put points built by the caller (keys and data, no rows; bytes set) in
 * the canonical order of engage_read_points, in the current memory
 * context; perm (n, or NULL) receives, for each position of the order, the
 * point's index before it.  The window function kmeans orders its
 * partition's points so.
 */
void
engage_order_points(EngagePoints *points, int64 *perm)
{
	Assert(points->rowbuf == NULL && points->keyhash == NULL);
	canonical_order(points, CurrentMemoryContext, perm);
}
