CREATE TABLE parts (name TEXT);
