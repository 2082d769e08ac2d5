/*-------------------------------------------------------------------------
 *
 * bulk_write.c
 *	  Writing the rows of one of engage's result tables in bulk: the
 *	  per-user rows of run_analysis (store_user_engagement) and the users'
 *	  clusters (store_user_clusters).
 *
 * The rows are written as COPY FROM writes them: in batches, with
 * table_multi_insert and a BulkInsertState, then the index entries of the
 * batch (the BRIN index on run_id), the table's constraints checked on
 * each row.  A BRIN index gets one entry per heap page and value, not one
 * per row: the summary of a page range holds the values of its rows, so a
 * row of the same page with the same indexed values as the row before it
 * would add nothing (every row of a batch is in the heap before the first
 * index entry, so a summarisation running meanwhile sees them all).  Since the rows bypass the executor's INSERT, the table is
 * opened here with the checks the executor would make: the caller's INSERT
 * privilege on every column, a table with triggers or row-level security
 * refused (neither would be honoured), and the columns that the writer
 * expects (an out-of-date table asks for ALTER EXTENSION ... UPDATE).
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "access/table.h"
#include "access/tableam.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "catalog/pg_am.h"
#include "nodes/makefuncs.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"

#include "bulk_write.h"

/*
 * Open table relname of schema nspid (an engage result table) for bulk
 * insertion, with RowExclusiveLock: the caller's INSERT privilege on every
 * column, no triggers, no row-level security, exactly natts columns of the
 * given types, then its indexes, its constraints and the batch's slots.
 * rows names the rows written, for the errors ("per-user rows").
 */
void
engage_bulk_open(EngageBulkWriter *w, Oid nspid, const char *relname,
				 int natts, const Oid *types, const char *rows)
{
	Oid			relid;
	RangeTblEntry *rte;
	TupleDesc	desc;
	int			i;

	memset(w, 0, sizeof(*w));
	relid = get_relname_relid(relname, nspid);
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s.%s\" does not exist",
						get_namespace_name(nspid), relname)));
	w->rel = table_open(relid, RowExclusiveLock);

	/* the INSERT privilege on every column, as the executor checks it */
	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_RELATION;
	rte->relid = relid;
	rte->relkind = w->rel->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	rte->requiredPerms = ACL_INSERT;
	desc = RelationGetDescr(w->rel);
	for (i = 1; i <= desc->natts; i++)
		rte->insertedCols = bms_add_member(rte->insertedCols,
										   i - FirstLowInvalidHeapAttributeNumber);
	ExecCheckRTPerms(list_make1(rte), true);

	if (w->rel->trigdesc != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("relation \"%s\" has triggers", RelationGetRelationName(w->rel)),
				 errdetail("The %s are written in bulk, without firing triggers.", rows)));
	if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("relation \"%s\" has row-level security enabled",
						RelationGetRelationName(w->rel)),
				 errdetail("The %s are written in bulk, without row-level security policies.",
						   rows)));
	for (i = 0; i < desc->natts; i++)
		if (i >= natts || TupleDescAttr(desc, i)->attisdropped ||
			TupleDescAttr(desc, i)->atttypid != types[i])
			break;
	if (i != natts || desc->natts != natts)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("relation \"%s\" does not have the columns of engage 0.2.0",
						RelationGetRelationName(w->rel)),
				 errhint("Update the extension: ALTER EXTENSION engage UPDATE.")));

	w->estate = CreateExecutorState();
	ExecInitRangeTable(w->estate, list_make1(rte));
	w->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(w->rri, w->rel, 1, NULL, 0);
	CheckValidResultRel(w->rri, CMD_INSERT);
	ExecOpenIndices(w->rri, false);
	w->brin_only = w->rri->ri_NumIndices > 0;
	for (i = 0; i < w->rri->ri_NumIndices; i++)
	{
		Relation	index = w->rri->ri_IndexRelationDescs[i];
		IndexInfo  *info = w->rri->ri_IndexRelationInfo[i];
		int			k;

		if (index->rd_rel->relam != BRIN_AM_OID || info->ii_Expressions != NIL ||
			info->ii_Predicate != NIL)
		{
			w->brin_only = false;
			break;
		}
		for (k = 0; k < info->ii_NumIndexAttrs; k++)
			w->index_attrs = bms_add_member(w->index_attrs, info->ii_IndexAttrNumbers[k]);
	}
	w->check_constraints = (desc->constr != NULL);
	w->bistate = GetBulkInsertState();
	for (i = 0; i < ENGAGE_BULK_BATCH_ROWS; i++)
		w->slots[i] = table_slot_create(w->rel, NULL);
	w->cid = GetCurrentCommandId(true);
}

/* The slot of the next row, cleared: fill its values and nulls */
TupleTableSlot *
engage_bulk_slot(EngageBulkWriter *w)
{
	TupleTableSlot *slot = w->slots[w->nbuffered];

	ExecClearTuple(slot);
	return slot;
}

/*
 * Add the row filled in engage_bulk_slot's slot: materialised in its slot
 * (its values may point into memory that the caller reuses), the table's
 * constraints checked, the batch written when full.
 */
void
engage_bulk_add(EngageBulkWriter *w)
{
	TupleTableSlot *slot = w->slots[w->nbuffered];

	ExecStoreVirtualTuple(slot);
	ExecMaterializeSlot(slot);
	if (w->check_constraints)
		ExecConstraints(w->rri, slot, w->estate);
	if (++w->nbuffered == ENGAGE_BULK_BATCH_ROWS)
		engage_bulk_flush(w);
}

/*
 * Whether the row of slot b needs no BRIN entries after the row of slot a
 * got its own (both written): the same heap page, not its first item (a
 * BRIN index with autosummarize asks for a summary on that one), and the
 * same indexed values, byte for byte.  Only when every index is BRIN.
 */
static bool
brin_entry_redundant(EngageBulkWriter *w, TupleTableSlot *a, TupleTableSlot *b)
{
	TupleDesc	desc = RelationGetDescr(w->rel);
	int			attnum = -1;

	if (!w->brin_only ||
		ItemPointerGetBlockNumber(&a->tts_tid) != ItemPointerGetBlockNumber(&b->tts_tid) ||
		ItemPointerGetOffsetNumber(&b->tts_tid) == FirstOffsetNumber)
		return false;
	while ((attnum = bms_next_member(w->index_attrs, attnum)) >= 0)
	{
		Form_pg_attribute att = TupleDescAttr(desc, attnum - 1);
		bool		anull,
					bnull;
		Datum		av = slot_getattr(a, attnum, &anull);
		Datum		bv = slot_getattr(b, attnum, &bnull);

		if (anull != bnull ||
			(!anull && !datumIsEqual(av, bv, att->attbyval, att->attlen)))
			return false;
	}
	return true;
}

/*
 * Write the buffered rows: one table_multi_insert, then their index
 * entries, as COPY FROM does (a BRIN index's once per page and value).
 */
void
engage_bulk_flush(EngageBulkWriter *w)
{
	MemoryContext oldcxt;
	int			i;

	if (w->nbuffered == 0)
		return;
	CHECK_FOR_INTERRUPTS();
	oldcxt = MemoryContextSwitchTo(GetPerTupleMemoryContext(w->estate));
	table_multi_insert(w->rel, w->slots, w->nbuffered, w->cid, 0, w->bistate);
	if (w->rri->ri_NumIndices > 0)
	{
		for (i = 0; i < w->nbuffered; i++)
		{
			List	   *recheck;

			if (i > 0 && brin_entry_redundant(w, w->slots[i - 1], w->slots[i]))
				continue;
			recheck = ExecInsertIndexTuples(w->rri, w->slots[i], w->estate,
											false, false, NULL, NIL);
			list_free(recheck);
		}
	}
	for (i = 0; i < w->nbuffered; i++)
		ExecClearTuple(w->slots[i]);
	MemoryContextSwitchTo(oldcxt);
	ResetPerTupleExprContext(w->estate);
	w->nbuffered = 0;
}

/*
 * Write the last batch, finish the bulk insertion and close the table (its
 * lock is kept until the end of the transaction).
 */
void
engage_bulk_close(EngageBulkWriter *w)
{
	int			i;

	engage_bulk_flush(w);
	FreeBulkInsertState(w->bistate);
	table_finish_bulk_insert(w->rel, 0);
	ExecCloseIndices(w->rri);
	for (i = 0; i < ENGAGE_BULK_BATCH_ROWS; i++)
		ExecDropSingleTupleTableSlot(w->slots[i]);
	FreeExecutorState(w->estate);
	table_close(w->rel, NoLock);
}
