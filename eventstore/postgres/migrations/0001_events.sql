-- 0001: the append-only log.
--
-- Applied once, in the transaction that makes a new store, in the current
-- schema (the first of search_path that exists); the code records each
-- file in treaty_schema in the same transaction. Never edit a file that has
-- shipped: a change to the schema is a new file.

-- The schema files applied, one row each: the store's schema version is
-- the highest. A store whose version is higher than the code knows is
-- refused, not changed.
CREATE TABLE treaty_schema (
    version integer     PRIMARY KEY CHECK (version > 0),
    name    text        NOT NULL,
    applied timestamptz NOT NULL DEFAULT now()
);

-- One row per event. position is the global order of appends; revision is
-- the event's 0-based place in its stream. data and metadata are bytea:
-- the exact bytes treaty sealed into the hash chain, which json or jsonb
-- would re-encode (jsonb reorders keys). Read them as text with
-- convert_from(data, 'UTF8'). Names sort in byte order (COLLATE "C"),
-- whatever the database's collation.
CREATE TABLE treaty_events (
    position bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream   text        COLLATE "C" NOT NULL,
    revision bigint      NOT NULL CHECK (revision >= 0),
    id       uuid        NOT NULL,
    type     text        NOT NULL,
    data     bytea       NOT NULL,
    metadata bytea       NOT NULL,
    created  timestamptz NOT NULL, -- the server's clock
    CONSTRAINT treaty_events_stream_revision UNIQUE (stream, revision),
    CONSTRAINT treaty_events_id UNIQUE (id)
);

-- The number of events of each stream, kept in the append's transaction, so
-- that the head of a stream and the list of streams cost one index lookup.
CREATE TABLE treaty_streams (
    name   text   COLLATE "C" PRIMARY KEY,
    events bigint NOT NULL CHECK (events > 0)
);
