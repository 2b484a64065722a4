CREATE TABLE configs (name TEXT, payload BLOB);
INSERT INTO configs VALUES ('crm', 'text'), ('erp', X'00FF10');
