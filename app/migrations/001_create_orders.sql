-- 001: the orders table.
--
-- Runs inside one transaction (migrate.sh wraps every file in one unless it is marked
-- "migrate:no-transaction"), so a failure leaves nothing half-created. The table is new and
-- empty here, so a plain CREATE INDEX costs nothing; on a table that already holds data, an
-- index is built CONCURRENTLY instead (see 002).

CREATE TABLE IF NOT EXISTS orders (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id  bigint      NOT NULL,
    total_cents  bigint      NOT NULL CHECK (total_cents >= 0),
    currency     char(3)     NOT NULL DEFAULT 'EUR',
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
