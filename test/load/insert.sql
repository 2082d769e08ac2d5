-- test/load/insert.sql (pgbench script): new xDR rows while the analysis
-- and the readers run: a slice of a larger generated data set (same layout
-- and subscribers' number range), and one synthetic row of a random
-- subscriber, logged in loadtest.inserted in the same transaction.
\set first random(0, 999990)
\set msisdn random(1, 50)
BEGIN;
INSERT INTO public.xdr SELECT * FROM engage.xdr_rows(1000000, 7000, 1, :first, 10);
INSERT INTO public.xdr ("Bearer Id", "Start", "End", "MSISDN/Number", "Dur. (ms)",
                        "Total DL (Bytes)", "Total UL (Bytes)", "Gaming DL (Bytes)", "Gaming UL (Bytes)")
VALUES (:first, '4/25/2019 0:00', '4/25/2019 0:05', 33600000000 + :msisdn, 300000 + :msisdn,
        1000000 * :msisdn, 20000 * :msisdn, 1000000 * :msisdn, 20000 * :msisdn);
INSERT INTO loadtest.inserted VALUES ('insert', 11);
COMMIT;
