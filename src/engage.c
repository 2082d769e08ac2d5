/*-------------------------------------------------------------------------
 *
 * engage.c
 *	  Module entry point of the engage extension: user engagement analytics
 *	  for telecom xDR data inside PostgreSQL.
 *
 * The SQL objects live in the other files of src/, by feature: engagement_agg.c (the
 * per-user engagement aggregate), xdr_generator.c (synthetic xDR data).
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

PG_MODULE_MAGIC;
