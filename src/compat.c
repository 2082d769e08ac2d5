/*-------------------------------------------------------------------------
 *
 * compat.c
 *	  The C entry points under the names of earlier versions of engage.
 *
 * The install script of a released version is never edited again, so
 * sql/engage--0.1.0.sql still names the C symbols of 0.1.0.  Version 0.2.0
 * renamed four of them so that every SQL function's symbol is
 * engage_<SQL name>; the upgrade script (sql/engage--0.1.0--0.2.0.sql)
 * points the functions at the new symbols.  Until a database is upgraded,
 * and whenever CREATE EXTENSION engage VERSION '0.1.0' runs (the upgrade
 * test does), the functions of 0.1.0 call this library through the old
 * names: each one below hands its call, unchanged, to the function that
 * now does the work.  Remove one only when no supported install or upgrade
 * path names it any more.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

/* The entry points of 0.2.0 (src/svg_sql.c, src/kmeans_sql.c) */
extern PGDLLEXPORT Datum engage_svg_bar_chart(PG_FUNCTION_ARGS);
extern PGDLLEXPORT Datum engage_svg_line_chart(PG_FUNCTION_ARGS);
extern PGDLLEXPORT Datum engage_svg_cluster_chart(PG_FUNCTION_ARGS);
extern PGDLLEXPORT Datum engage_kmeans_assign(PG_FUNCTION_ARGS);

PG_FUNCTION_INFO_V1(engage_sql_svg_bar_chart);

/* svg_bar_chart of 0.1.0: engage_svg_bar_chart */
Datum
engage_sql_svg_bar_chart(PG_FUNCTION_ARGS)
{
	return engage_svg_bar_chart(fcinfo);
}

PG_FUNCTION_INFO_V1(engage_sql_svg_line_chart);

/* svg_line_chart of 0.1.0: engage_svg_line_chart */
Datum
engage_sql_svg_line_chart(PG_FUNCTION_ARGS)
{
	return engage_svg_line_chart(fcinfo);
}

PG_FUNCTION_INFO_V1(engage_sql_svg_cluster_chart);

/* svg_cluster_chart of 0.1.0: engage_svg_cluster_chart */
Datum
engage_sql_svg_cluster_chart(PG_FUNCTION_ARGS)
{
	return engage_svg_cluster_chart(fcinfo);
}

PG_FUNCTION_INFO_V1(engage_kmeans_assign_points);

/* kmeans_assign of 0.1.0: engage_kmeans_assign */
Datum
engage_kmeans_assign_points(PG_FUNCTION_ARGS)
{
	return engage_kmeans_assign(fcinfo);
}
