-- sqlite.sql - benchmark workload: the sqlite3 shell running an insert/query
-- script (issue 4, row 8).  The bench (scripts/bench/) replaces @ROWS@ with the size and
-- runs `sqlite3 -init FILE :memory:`.  The data come from a recursive CTE
-- with a fixed linear congruential generator, so the output is the same on
-- every run; the last line is "checksum sqlite <n>|<n>|<n>".
CREATE TABLE item(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, val INTEGER);
CREATE INDEX item_grp ON item(grp);
CREATE INDEX item_name ON item(name);
WITH RECURSIVE gen(i, x) AS (
  SELECT 1, 12345
  UNION ALL
  SELECT i + 1, (x * 1103515245 + 12345) % 2147483648 FROM gen WHERE i < @ROWS@
)
INSERT INTO item(grp, name, val)
  SELECT x % 1000, 'name-' || (x % 50000) || '-' || substr('abcdefghijklmnop', 1 + x % 16), x % 100000
  FROM gen;
UPDATE item SET val = val + 1 WHERE grp % 7 = 0;
DELETE FROM item WHERE grp % 11 = 0;
CREATE TABLE summary AS
  SELECT grp, count(*) AS n, sum(val) AS s, group_concat(substr(name, 1, 8), ',') AS names
  FROM item GROUP BY grp;
SELECT 'checksum sqlite ' || (SELECT count(*) FROM item) || '|' ||
       (SELECT sum(s % 9973) FROM summary) || '|' ||
       (SELECT sum(length(names)) FROM summary) || '|' ||
       (SELECT count(DISTINCT name) FROM item WHERE name LIKE 'name-1%');
