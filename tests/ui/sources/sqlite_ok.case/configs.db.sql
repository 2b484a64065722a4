CREATE TABLE configs (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    tables TEXT NOT NULL,          -- a JSON list
    schedule TEXT,                 -- NULL: the type's default
    retries INTEGER,
    retry_delay TEXT,
    params TEXT                    -- a JSON record
);
INSERT INTO configs VALUES ('crm', 1, '["accounts"]', '@daily', 2, NULL, NULL);
INSERT INTO configs VALUES ('erp', 1, '["orders", "invoices"]', NULL, NULL, '90s', '{"team": "finance"}');
INSERT INTO configs VALUES ('crm', 3, '["accounts", "contacts"]', '@hourly', 3, '10m', '{"team": "sales"}');
INSERT INTO configs VALUES ('crm', 2, '["accounts", "leads"]', '0 25 * * *', 9, NULL, NULL);
