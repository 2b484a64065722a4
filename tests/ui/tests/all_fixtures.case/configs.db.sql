CREATE TABLE configs (name TEXT, tables TEXT);
