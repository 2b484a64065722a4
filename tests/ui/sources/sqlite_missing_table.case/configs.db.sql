CREATE TABLE configs (name TEXT);
CREATE TABLE owners (team TEXT);
CREATE VIEW latest AS SELECT name FROM configs;
