CREATE TABLE configs (name TEXT, retries INTEGER);
INSERT INTO configs VALUES ('crm', 1), ('erp', 2), ('crm', 3);
