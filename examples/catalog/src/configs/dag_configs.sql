-- The configuration database of catalog entries 101.2.3 and 101.6.2.
--
-- `dag_configs.db` beside this file is made from it; after changing it, run (in
-- `examples/catalog/src/configs/`):
--
--     rm -f dag_configs.db && sqlite3 dag_configs.db < dag_configs.sql
--
-- or, without the sqlite3 shell:
--
--     python3 -c "import sqlite3; sqlite3.connect('dag_configs.db').executescript(open('dag_configs.sql').read())"

-- 101.2.3: DAG configurations, one row per version. A change is a new row with the
-- next version; old versions stay for the record. dagfc keeps the highest version of
-- each name.
CREATE TABLE dag_configs (
    name       TEXT    NOT NULL,           -- the dag id
    version    INTEGER NOT NULL,
    enabled    INTEGER NOT NULL DEFAULT 1, -- 0 retires the DAG
    owner      TEXT    NOT NULL,
    schedule   TEXT,                       -- NULL: the type's default
    tables     TEXT    NOT NULL,           -- a JSON list
    retries    INTEGER,                    -- NULL: the type's default
    changed_by TEXT    NOT NULL,
    changed_on TEXT    NOT NULL,
    PRIMARY KEY (name, version)
);

INSERT INTO dag_configs VALUES
    ('101_02_03_database_driven_factory', 1, 1, 'sales', '@daily', '["orders"]', NULL, 'ana', '2024-01-08'),
    ('101_02_03_database_driven_factory', 2, 1, 'sales', '@daily', '["orders", "customers"]', 2, 'ana', '2024-02-19'),
    ('101_02_03_database_driven_factory', 3, 1, 'sales', '0 4 * * *', '["orders", "customers", "refunds"]', 2, 'ben', '2024-04-02'),
    ('inventory_snapshot', 1, 1, 'ops', '@hourly', '["stock"]', 1, 'chen', '2024-01-15'),
    ('inventory_snapshot', 2, 1, 'ops', '30 * * * *', '["stock", "warehouses"]', 3, 'chen', '2024-03-11'),
    ('billing_export', 1, 1, 'finance', NULL, '["invoices"]', NULL, 'dora', '2024-02-01'),
    ('partner_feed', 1, 1, 'partners', '@daily', '["partner_orders"]', 1, 'eli', '2024-01-22'),
    ('partner_feed', 2, 0, 'partners', '@daily', '["partner_orders"]', 1, 'eli', '2024-05-06');

-- 101.6.2: ingestion jobs as an older admin tool stores them: its own column names, the
-- tables as comma-separated text, the retry delay in seconds.
CREATE TABLE ingest_jobs (
    job_name            TEXT    NOT NULL PRIMARY KEY,
    team                TEXT    NOT NULL,
    cron                TEXT,
    table_list          TEXT    NOT NULL,
    retry_delay_seconds INTEGER NOT NULL
);

INSERT INTO ingest_jobs VALUES
    ('ingest_billing', 'finance', '0 3 * * *', 'invoices,payments', 600);
