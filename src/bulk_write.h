/*-------------------------------------------------------------------------
 *
 * bulk_write.h
 *	  Writing the rows of one of engage's result tables in bulk, as COPY
 *	  FROM does: batches of table_multi_insert, their index entries, the
 *	  table's constraints, the caller's INSERT privilege checked.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ENGAGE_BULK_WRITE_H
#define ENGAGE_BULK_WRITE_H

#include "postgres.h"

#include "access/heapam.h"
#include "executor/tuptable.h"
#include "nodes/execnodes.h"
#include "utils/rel.h"

/* Rows per table_multi_insert */
#define ENGAGE_BULK_BATCH_ROWS	1000

/*
 * A result table open for bulk insertion.  Fill the slot that
 * engage_bulk_slot returns (tts_values, tts_isnull), then engage_bulk_add
 * it; engage_bulk_close writes what is left.
 */
typedef struct EngageBulkWriter
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	BulkInsertState bistate;
	CommandId	cid;			/* command id of the rows written */
	bool		check_constraints;
	bool		brin_only;		/* every index BRIN on plain columns */
	Bitmapset  *index_attrs;	/* their columns (attribute numbers) */
	TupleTableSlot *slots[ENGAGE_BULK_BATCH_ROWS];
	int			nbuffered;
} EngageBulkWriter;

extern void engage_bulk_open(EngageBulkWriter *w, Oid nspid, const char *relname,
							 int natts, const Oid *types, const char *rows);
extern TupleTableSlot *engage_bulk_slot(EngageBulkWriter *w);
extern void engage_bulk_add(EngageBulkWriter *w);
extern void engage_bulk_flush(EngageBulkWriter *w);
extern void engage_bulk_close(EngageBulkWriter *w);

#endif							/* ENGAGE_BULK_WRITE_H */
