-- bulk_write: the rows that run_analysis writes in bulk (src/bulk_write.c:
-- the per-user rows; the users' clusters only with k above 1000, by the
-- same writer) are found through the indexes of their tables.  A BRIN index gets one entry per heap page and value, not
-- one per row: checked where it matters, rows written into the pages of a
-- pruned run, whose page ranges VACUUM summarised (each such range must be
-- widened to the new run's id), and with a B-tree index a user added (an
-- entry per row).  The counts against the source's subscribers.
SET client_min_messages = warning;
SELECT engage.generate_xdr('public.bw_xdr', 20000, seed => 31);
RESET client_min_messages;
CREATE TABLE bw_users AS
SELECT count(DISTINCT "MSISDN/Number") AS users FROM public.bw_xdr;

-- The rows of a run counted by a plan of the given kind: 'bitmap' (the
-- BRIN index, the only way it is read), 'index' (a B-tree index scan) or
-- 'seq'; an error when the plan is of another kind.
CREATE FUNCTION bw_count(tab regclass, run bigint, kind text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	q text := format('SELECT count(*) FROM %s WHERE run_id = %s AND msisdn > %L', tab, run, '');
	line text;
	found boolean := false;
	n bigint;
BEGIN
	PERFORM set_config('enable_seqscan', (kind = 'seq')::text, true);
	PERFORM set_config('enable_bitmapscan', (kind = 'bitmap')::text, true);
	PERFORM set_config('enable_indexscan', (kind = 'index')::text, true);
	PERFORM set_config('enable_indexonlyscan', 'off', true);
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		found := found OR line LIKE CASE kind WHEN 'bitmap' THEN '%Bitmap Heap Scan%'
		                                      WHEN 'index' THEN '%Index Scan%' ELSE '%Seq Scan%' END;
	END LOOP;
	IF NOT found THEN
		RAISE EXCEPTION 'no % scan in the plan of %', kind, q;
	END IF;
	EXECUTE q INTO n;
	PERFORM set_config('enable_seqscan', 'on', true);
	PERFORM set_config('enable_bitmapscan', 'on', true);
	PERFORM set_config('enable_indexscan', 'on', true);
	PERFORM set_config('enable_indexonlyscan', 'on', true);
	RETURN n;
END
$$;

-- Three runs of one name, one kept (each run prunes the one before it),
-- VACUUM after each: the third run's rows go into the pages of the first,
-- in page ranges that VACUUM summarised with the ids of the runs before
CREATE TABLE bw_pages (tab regclass, pages bigint);
SELECT engage.run_analysis('public.bw_xdr', k_max => 0, name => 'bw', keep_runs => 1) IS NOT NULL AS ok;
VACUUM engage.result_user_engagement;
SELECT engage.run_analysis('public.bw_xdr', k_max => 0, name => 'bw', keep_runs => 1) IS NOT NULL AS ok;
VACUUM engage.result_user_engagement;
INSERT INTO bw_pages
SELECT t, pg_relation_size(t) / current_setting('block_size')::bigint
FROM unnest('{engage.result_user_engagement}'::regclass[]) AS t;
SELECT engage.run_analysis('public.bw_xdr', k_max => 0, name => 'bw', keep_runs => 1) IS NOT NULL AS ok;
CREATE TABLE bw_run AS SELECT max(run_id) AS run FROM engage.run WHERE name = 'bw' AND status = 'ok';

-- rows of the run in whole page ranges (128 pages) of the table as it was
-- before the run (VACUUM summarises whole ranges only); the rows found
-- through the BRIN index and by a sequential scan, against the users
SELECT p.tab,
       (SELECT count(*) FROM engage.result_user_engagement u
        WHERE u.run_id = r.run AND (u.ctid::text::point)[0] < p.pages / 128 * 128) > 0 AS in_summarised_ranges
FROM bw_pages p, bw_run r WHERE p.tab = 'engage.result_user_engagement'::regclass;
SELECT t.tab, bw_count(t.tab, r.run, 'bitmap') AS by_brin, bw_count(t.tab, r.run, 'seq') AS by_seq_scan,
       (SELECT users FROM bw_users) AS users
FROM bw_run r, unnest('{engage.result_user_engagement}'::regclass[]) AS t(tab);

-- A B-tree index that a user adds gets an entry per row
CREATE INDEX bw_msisdn_idx ON engage.result_user_engagement (msisdn);
SELECT engage.run_analysis('public.bw_xdr', k_max => 0, name => 'bw', keep_runs => 1) IS NOT NULL AS ok;
SELECT bw_count('engage.result_user_engagement', run_id, 'index') AS by_btree,
       bw_count('engage.result_user_engagement', run_id, 'bitmap') AS by_brin,
       (SELECT users FROM bw_users) AS users
FROM engage.run WHERE name = 'bw' AND status = 'ok';
DROP INDEX engage.bw_msisdn_idx;
