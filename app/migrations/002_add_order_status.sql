-- migrate:no-transaction
--
-- 002: an order status, and an index to find orders by status.
--
-- By now `orders` holds real data and takes real traffic, so:
--
-- * CREATE INDEX CONCURRENTLY builds the index without blocking writes (a plain CREATE INDEX
--   holds a SHARE lock, which stops every INSERT/UPDATE/DELETE for the whole build). It cannot run
--   inside a transaction block, hence the marker on the first line: migrate.sh then runs this file
--   statement by statement, each in its own transaction, and records it only if all succeeded.
--   So every statement here must be safe to run again after a partial failure.
--
-- * ADD COLUMN with a constant DEFAULT only changes the catalog (PostgreSQL 11+): no table
--   rewrite. It still needs a brief ACCESS EXCLUSIVE lock, and waiting for that lock behind a
--   long transaction would block every query queued behind it; migrate.sh's lock_timeout makes
--   it give up instead, and the Job fails with the file's name.

ALTER TABLE orders ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'pending';

-- A CREATE INDEX CONCURRENTLY that fails part-way (lock or statement timeout, cancel) leaves an
-- INVALID index behind, which IF NOT EXISTS would then accept as done. Drop such a leftover first,
-- so that running this file again repairs the index instead of keeping a broken one.
SELECT format('DROP INDEX CONCURRENTLY IF EXISTS %I.%I', n.nspname, c.relname)
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relname = 'orders_status_created_at_idx'
   AND n.nspname = current_schema()
   AND NOT i.indisvalid
\gexec

CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_created_at_idx
    ON orders (status, created_at);
