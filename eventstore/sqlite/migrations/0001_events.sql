-- 0001: the append-only log.
--
-- Applied once, inside the transaction that opens a new store; the code sets
-- PRAGMA user_version to this file's number in the same transaction. Never
-- edit a file that has shipped: a change to the schema is a new file.

-- Marks the file as a treaty store, so that opening some other application's
-- SQLite database is refused instead of migrated ('TRTY' in ASCII).
PRAGMA application_id = 1414681689;

-- One row per event. position is the global order of appends (AUTOINCREMENT
-- so a position is never reused); revision is the event's 0-based place in its
-- stream. id is the canonical UUID string and data/metadata are JSON text, so
-- that `sqlite3 treaty.db 'select * from events'` shows them as they are.
CREATE TABLE events (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    stream   TEXT    NOT NULL,
    revision INTEGER NOT NULL CHECK (revision >= 0),
    id       TEXT    NOT NULL,
    type     TEXT    NOT NULL,
    data     TEXT    NOT NULL,
    metadata TEXT    NOT NULL,
    created  INTEGER NOT NULL, -- unix nanoseconds, UTC, the store's clock
    UNIQUE (stream, revision),
    UNIQUE (id)
);

-- The number of events of each stream, kept in the append's transaction, so
-- that the head of a stream and the list of streams cost one index lookup.
CREATE TABLE streams (
    name   TEXT    PRIMARY KEY,
    events INTEGER NOT NULL CHECK (events > 0)
) WITHOUT ROWID;
