CREATE TABLE configs (name TEXT, version INTEGER);
INSERT INTO configs VALUES ('crm', 1);
