-- catalog: every object of the extension is documented (COMMENT ON), runs
-- with the caller's rights, and lives in schema engage; every C function's
-- symbol is named after it.

-- Functions, aggregates, tables, views, sequences and types without a comment
SELECT 'function' AS kind, p.oid::regprocedure::text AS name
FROM pg_proc p
WHERE p.pronamespace = 'engage'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL
UNION ALL
SELECT 'relation', c.oid::regclass::text
FROM pg_class c
WHERE c.relnamespace = 'engage'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'S')
  AND obj_description(c.oid, 'pg_class') IS NULL
UNION ALL
SELECT 'type', t.oid::regtype::text
FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid
WHERE t.typnamespace = 'engage'::regnamespace AND c.relkind = 'c'
  AND obj_description(t.oid, 'pg_type') IS NULL
ORDER BY 1, 2;

-- Nothing is SECURITY DEFINER: query text runs with the caller's rights
SELECT count(*) AS security_definer_functions
FROM pg_proc WHERE pronamespace = 'engage'::regnamespace AND prosecdef;

-- Every object of the extension is in schema engage
SELECT count(*) AS objects_elsewhere
FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
LEFT JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
LEFT JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
LEFT JOIN pg_type t ON d.classid = 'pg_type'::regclass AND t.oid = d.objid
WHERE e.extname = 'engage' AND d.deptype = 'e'
  AND coalesce(p.pronamespace, c.relnamespace, t.typnamespace) <> 'engage'::regnamespace;

-- The aggregates are parallel safe and have combine functions
SELECT a.aggfnoid::regprocedure AS aggregate, a.aggcombinefn <> 0 AS has_combine,
       p.proparallel = 's' AS parallel_safe, a.aggtranstype::regtype AS state_type
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
WHERE p.pronamespace = 'engage'::regnamespace
ORDER BY 1::text;

-- Every C function is in engage's library, under the symbol
-- engage_<SQL name> (the overloads of one name: engage_<SQL name>_<suffix>)
SELECT count(*) AS c_functions
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = 'engage'::regnamespace AND l.lanname = 'c';
SELECT p.oid::regprocedure AS function, p.prosrc AS symbol, p.probin AS library
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = 'engage'::regnamespace AND l.lanname = 'c'
  AND NOT (p.probin = '$libdir/engage'
           AND (p.prosrc = 'engage_' || p.proname
                OR (p.prosrc ~ ('^engage_' || p.proname || '_[a-z0-9]+$')
                    AND (SELECT count(*) FROM pg_proc o
                         WHERE o.pronamespace = p.pronamespace AND o.proname = p.proname) > 1)))
ORDER BY 1::text;
