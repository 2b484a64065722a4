CREATE TABLE configs (name TEXT);
