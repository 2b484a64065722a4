CREATE TABLE configs (name TEXT, version INTEGER, tables TEXT, schedule TEXT, retries INTEGER);
INSERT INTO configs VALUES ('crm', 1, '["accounts"]', '@daily', 1);
INSERT INTO configs VALUES ('crm', 2, '["accounts"]', '0 25 * * *', 9);
INSERT INTO configs VALUES ('erp', 4, 'orders', NULL, NULL);
INSERT INTO configs VALUES ('Billing', 1, '["invoices"]', NULL, NULL);
CREATE TABLE owners (team TEXT, channel TEXT);
INSERT INTO owners VALUES ('data', '#data');
