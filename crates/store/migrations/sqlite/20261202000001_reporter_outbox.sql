-- The reporters' outbox (exactly-once delivery across masters): one row per (reporter, build,
-- event) to report. A master claims a row for `claim_expires_at`, delivers, then settles it
-- ('sent', 'skipped', or 'failed' once its attempts are exhausted); a failed attempt releases
-- the claim and sets `next_attempt_at` (backoff). A claim whose master died or whose expiry
-- passed may be taken by another master.
CREATE TABLE reporter_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reporter TEXT NOT NULL,
    buildid INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    claimed_by INTEGER REFERENCES masters (id) ON DELETE SET NULL,
    claim_expires_at INTEGER,
    next_attempt_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    settled_at INTEGER,
    last_error TEXT
);
CREATE UNIQUE INDEX reporter_outbox_identity ON reporter_outbox (reporter, buildid, event);
CREATE INDEX reporter_outbox_pending ON reporter_outbox (reporter, state, next_attempt_at);
CREATE INDEX builds_complete_at ON builds (complete_at);
CREATE INDEX builds_started_at ON builds (started_at);
