-- 0002: a cache beside the log (eventstore.Cache).
--
-- Projection checkpoints live here: derived data that may be deleted at any
-- time (DELETE FROM treaty_cache) without changing any answer. Values run to
-- megabytes and are compact already: stored out of line, uncompressed.
CREATE TABLE treaty_cache (
    key   text  COLLATE "C" PRIMARY KEY,
    value bytea NOT NULL
);
ALTER TABLE treaty_cache ALTER COLUMN value SET STORAGE EXTERNAL;
