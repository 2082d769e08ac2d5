/*-------------------------------------------------------------------------
 *
 * points.h
 *	  The points stage of a clustering: the points of a query read,
 *	  validated and put in order, as keys and a dense float8 matrix, within
 *	  engage.max_memory.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ENGAGE_POINTS_H
#define ENGAGE_POINTS_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "fmgr.h"

/*
 * Points read from a query: row i is keys[i] and data[i * d .. i * d + d - 1];
 * read by engage_read_point_rows, keys is NULL and point i's whole row is
 * kept in rowbuf at rowoff[i] as a minimal tuple (engage_point_row deforms it).
 */
typedef struct EngagePoints
{
	int64		n;				/* number of points */
	int			d;				/* number of features */
	text	  **keys;			/* text form of each point's key (varlena,
								 * possibly with a short header) */
	double	   *data;			/* n x d, row-major */
	char	  **feature_names;	/* d column names (or "f1".."fd" for an array) */
	Size		bytes;			/* memory held by keys (or rows) and data */
	char	   *rowbuf;			/* the rows, packed, or NULL */
	Size	   *rowoff;			/* offset of each point's row in rowbuf */
	uint64	   *keyhash;		/* while reading rows: hash of each key */
	TupleDesc	tupdesc;		/* the rows' columns */
	FmgrInfo   *keyout;			/* output function of the key */
} EngagePoints;

/* The order of the points read */
typedef enum EngagePointsOrder
{
	ENGAGE_POINTS_QUERY_ORDER,	/* as the query returned them */
	ENGAGE_POINTS_CANONICAL_ORDER	/* by key and features: the same for
									 * every plan and physical row order */
} EngagePointsOrder;

extern void engage_read_points(const char *query, EngagePointsOrder order,
							   EngagePoints *points);
extern void engage_read_point_rows(const char *query, int features,
								   EngagePoints *points);
extern void engage_point_row(const EngagePoints *pts, int64 i, Datum *values,
							 bool *isnull);
extern char *engage_point_key(const EngagePoints *pts, int64 i);
extern const char *engage_point_key_bytes(const EngagePoints *pts, int64 i,
										  size_t *len);
extern void engage_order_points(EngagePoints *points, int64 *perm);
extern double engage_numeric_to_double(Datum value);
extern bool engage_numeric_small_int(Datum value, int64 *out, bool *scale0);

#endif							/* ENGAGE_POINTS_H */
