/*-------------------------------------------------------------------------
 *
 * points.h
 *	  Reading the points of a clustering from a query: keys and a dense
 *	  float8 matrix, bounded by engage.max_memory.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ENGAGE_POINTS_H
#define ENGAGE_POINTS_H

#include "postgres.h"

/* Points read from a query: row i is keys[i] and data[i * d .. i * d + d - 1] */
typedef struct EngagePoints
{
	int64		n;				/* number of points */
	int			d;				/* number of features */
	text	  **keys;			/* text form of each point's key (varlena,
								 * possibly with a short header) */
	double	   *data;			/* n x d, row-major */
	char	  **feature_names;	/* d column names (or "f1".."fd" for an array) */
	Size		bytes;			/* memory held by keys and data */
} EngagePoints;

extern void engage_read_points(const char *query, const char *fname,
							   EngagePoints *points);
extern void engage_check_memory(Size already, Size more, const char *what);

#endif							/* ENGAGE_POINTS_H */
