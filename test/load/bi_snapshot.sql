-- test/load/bi_snapshot.sql (pgbench script): a reader that checks, in one
-- statement (one snapshot), that every result view shows the same run and
-- agrees with that run's engage.run row, while runs commit and prune
-- concurrently; then the same across statements in one REPEATABLE READ
-- transaction, as the README advises for reading several views.
SELECT loadtest.check(
         ue.run_id = l.run_id AND ue.n = l.users AND ue.sessions = l.rows_read - l.rows_without_subscriber
         AND uc.run_id = l.run_id AND uc.n = l.users
         AND cs.run_id = l.run_id AND cs.n = l.k AND cs.users = l.users AND cs.sessions = ue.sessions
         AND tu.run_id = l.run_id AND tu.n = 30
         AND au.run_id = l.run_id AND au.n = 7 * l.users
         AND at.run_id = l.run_id AND at.n = 7 AND ta.run_id = l.run_id AND ta.n = 3
         AND tp.run_id = l.run_id AND tp.n BETWEEN 1 AND 70
         AND el.n = LEAST((l.parameters ->> 'k_max')::integer, l.users)
         AND (el.n = 0 OR el.run_id = l.run_id),
         format('inconsistent snapshot: latest run %s (%s users, k = %s); user_engagement run %s (%s rows), '
                'user_clusters run %s (%s rows), cluster_stats run %s (%s rows, %s users), top_users run %s (%s rows), '
                'app_usage run %s (%s rows), app_totals run %s (%s rows), top_apps run %s (%s rows), '
                'top_users_per_app run %s (%s rows), elbow run %s (%s rows)',
                l.run_id, l.users, l.k, ue.run_id, ue.n, uc.run_id, uc.n, cs.run_id, cs.n, cs.users, tu.run_id, tu.n,
                au.run_id, au.n, at.run_id, at.n, ta.run_id, ta.n, tp.run_id, tp.n, el.run_id, el.n))
FROM engage.latest_run l,
     (SELECT max(v.run_id) AS run_id, count(*) AS n, sum(v.sessions) AS sessions FROM engage.user_engagement v) ue,
     (SELECT max(v.run_id) AS run_id, count(*) AS n FROM engage.user_clusters v) uc,
     (SELECT max(v.run_id) AS run_id, count(*) AS n, sum(v.users) AS users, sum(v.sessions_total) AS sessions
      FROM engage.cluster_stats v) cs,
     (SELECT max(v.run_id) AS run_id, count(*) AS n FROM engage.top_users v) tu,
     (SELECT max(v.run_id) AS run_id, count(*) AS n FROM engage.app_usage v) au,
     (SELECT max(v.run_id) AS run_id, count(*) AS n FROM engage.app_totals v) at,
     (SELECT max(v.run_id) AS run_id, count(*) AS n FROM engage.top_apps v) ta,
     (SELECT max(v.run_id) AS run_id, count(*) AS n FROM engage.top_users_per_app v) tp,
     (SELECT max(v.run_id) AS run_id, count(*) AS n FROM engage.elbow v) el;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT run_id AS r0, users AS u0, k AS k0 FROM engage.latest_run \gset
SELECT max(run_id) AS r1, count(*) AS u1 FROM engage.user_engagement \gset
SELECT pg_sleep(0.01);
SELECT max(run_id) AS r2, count(*) AS u2 FROM engage.user_clusters \gset
SELECT max(run_id) AS r3, count(*) AS k3, sum(users) AS u3 FROM engage.cluster_stats \gset
SELECT loadtest.check(:r1 = :r0 AND :r2 = :r0 AND :r3 = :r0 AND :u1 = :u0 AND :u2 = :u0 AND :u3 = :u0 AND :k3 = :k0,
                      format('REPEATABLE READ: latest run %s (%s users), user_engagement run %s (%s), user_clusters run %s (%s), cluster_stats run %s (%s)',
                             :r0, :u0, :r1, :u1, :r2, :u2, :r3, :u3));
COMMIT;
