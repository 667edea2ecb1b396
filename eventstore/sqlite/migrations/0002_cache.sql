-- 0002: a cache beside the log (eventstore.Cache).
--
-- Projection checkpoints live here: derived data that may be deleted at any
-- time (`DELETE FROM cache`) without changing any answer. A rowid table, as
-- values run to megabytes.
CREATE TABLE cache (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
