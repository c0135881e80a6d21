-- Ferrobot's schema, modelled on Buildbot's (master/buildbot/db/model.py): same tables, columns
-- and keys. Booleans are 0/1 integers and times are epoch seconds, as in Buildbot.
-- AUTOINCREMENT keeps ids increasing and never reused (request collapsing relies on it).
-- Keep in step with ../postgres/20260801000000_initial_schema.sql.

CREATE TABLE masters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_hash TEXT NOT NULL,
    active INTEGER NOT NULL,
    last_active INTEGER NOT NULL
);
CREATE UNIQUE INDEX master_name_hashes ON masters (name_hash);

CREATE TABLE projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_hash TEXT NOT NULL,
    slug TEXT NOT NULL,
    description TEXT,
    description_format TEXT,
    description_html TEXT
);
CREATE UNIQUE INDEX projects_name_hash ON projects (name_hash);

CREATE TABLE builders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_hash TEXT NOT NULL,
    description TEXT,
    description_format TEXT,
    description_html TEXT,
    projectid INTEGER REFERENCES projects (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX builder_name_hash ON builders (name_hash);
CREATE INDEX builders_projectid ON builders (projectid);

CREATE TABLE builder_masters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    builderid INTEGER NOT NULL REFERENCES builders (id) ON DELETE CASCADE,
    masterid INTEGER NOT NULL REFERENCES masters (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX builder_masters_identity ON builder_masters (builderid, masterid);
CREATE INDEX builder_masters_masterid ON builder_masters (masterid);

CREATE TABLE tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_hash TEXT NOT NULL
);
CREATE UNIQUE INDEX tag_name_hash ON tags (name_hash);

CREATE TABLE builders_tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    builderid INTEGER NOT NULL REFERENCES builders (id) ON DELETE CASCADE,
    tagid INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX builders_tags_unique ON builders_tags (builderid, tagid);
CREATE INDEX builders_tags_tagid ON builders_tags (tagid);

CREATE TABLE workers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    info TEXT NOT NULL,
    paused INTEGER NOT NULL DEFAULT 0,
    pause_reason TEXT,
    graceful INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX workers_name ON workers (name);

CREATE TABLE configured_workers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    buildermasterid INTEGER NOT NULL REFERENCES builder_masters (id) ON DELETE CASCADE,
    workerid INTEGER NOT NULL REFERENCES workers (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX configured_workers_identity ON configured_workers (buildermasterid, workerid);
CREATE INDEX configured_workers_workerid ON configured_workers (workerid);

CREATE TABLE connected_workers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    masterid INTEGER NOT NULL REFERENCES masters (id) ON DELETE CASCADE,
    workerid INTEGER NOT NULL REFERENCES workers (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX connected_workers_identity ON connected_workers (masterid, workerid);
CREATE INDEX connected_workers_workerid ON connected_workers (workerid);

CREATE TABLE patches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    patchlevel INTEGER NOT NULL,
    patch_base64 TEXT NOT NULL,
    patch_author TEXT NOT NULL,
    patch_comment TEXT NOT NULL,
    subdir TEXT
);

CREATE TABLE sourcestamps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ss_hash TEXT NOT NULL,
    branch TEXT,
    revision TEXT,
    patchid INTEGER REFERENCES patches (id) ON DELETE CASCADE,
    repository TEXT NOT NULL DEFAULT '',
    codebase TEXT NOT NULL DEFAULT '',
    project TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX sourcestamps_ss_hash_key ON sourcestamps (ss_hash);
CREATE INDEX sourcestamps_patchid ON sourcestamps (patchid);

CREATE TABLE changes (
    changeid INTEGER PRIMARY KEY AUTOINCREMENT,
    author TEXT NOT NULL,
    committer TEXT,
    comments TEXT NOT NULL,
    branch TEXT,
    revision TEXT,
    revlink TEXT,
    when_timestamp INTEGER NOT NULL,
    category TEXT,
    repository TEXT NOT NULL DEFAULT '',
    codebase TEXT NOT NULL DEFAULT '',
    project TEXT NOT NULL DEFAULT '',
    sourcestampid INTEGER NOT NULL REFERENCES sourcestamps (id) ON DELETE CASCADE,
    parent_changeids INTEGER REFERENCES changes (changeid) ON DELETE SET NULL
);
CREATE INDEX changes_branch ON changes (branch);
CREATE INDEX changes_revision ON changes (revision);
CREATE INDEX changes_author ON changes (author);
CREATE INDEX changes_category ON changes (category);
CREATE INDEX changes_when_timestamp ON changes (when_timestamp);
CREATE INDEX changes_sourcestampid ON changes (sourcestampid);
CREATE INDEX changes_parent_changeids ON changes (parent_changeids);

-- Unlike Buildbot, an id keeps the files in the order the change listed them.
CREATE TABLE change_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    changeid INTEGER NOT NULL REFERENCES changes (changeid) ON DELETE CASCADE,
    filename TEXT NOT NULL
);
CREATE INDEX change_files_changeid ON change_files (changeid);

CREATE TABLE change_properties (
    changeid INTEGER NOT NULL REFERENCES changes (changeid) ON DELETE CASCADE,
    property_name TEXT NOT NULL,
    property_value TEXT NOT NULL
);
CREATE INDEX change_properties_changeid ON change_properties (changeid);

CREATE TABLE schedulers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_hash TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX scheduler_name_hash ON schedulers (name_hash);

CREATE TABLE scheduler_masters (
    schedulerid INTEGER NOT NULL PRIMARY KEY REFERENCES schedulers (id) ON DELETE CASCADE,
    masterid INTEGER NOT NULL REFERENCES masters (id) ON DELETE CASCADE
);
CREATE INDEX scheduler_masters_masterid ON scheduler_masters (masterid);

CREATE TABLE scheduler_changes (
    schedulerid INTEGER NOT NULL REFERENCES schedulers (id) ON DELETE CASCADE,
    changeid INTEGER NOT NULL REFERENCES changes (changeid) ON DELETE CASCADE,
    important INTEGER
);
CREATE UNIQUE INDEX scheduler_changes_unique ON scheduler_changes (schedulerid, changeid);
CREATE INDEX scheduler_changes_changeid ON scheduler_changes (changeid);

CREATE TABLE changesources (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_hash TEXT NOT NULL
);
CREATE UNIQUE INDEX changesource_name_hash ON changesources (name_hash);

CREATE TABLE changesource_masters (
    changesourceid INTEGER NOT NULL PRIMARY KEY REFERENCES changesources (id) ON DELETE CASCADE,
    masterid INTEGER NOT NULL REFERENCES masters (id) ON DELETE CASCADE
);
CREATE INDEX changesource_masters_masterid ON changesource_masters (masterid);

CREATE TABLE buildsets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    external_idstring TEXT,
    reason TEXT,
    submitted_at INTEGER NOT NULL,
    complete INTEGER NOT NULL DEFAULT 0,
    complete_at INTEGER,
    results INTEGER,
    parent_buildid INTEGER REFERENCES builds (id) ON DELETE SET NULL,
    parent_relationship TEXT,
    rebuilt_buildid INTEGER REFERENCES builds (id) ON DELETE SET NULL
);
CREATE INDEX buildsets_complete ON buildsets (complete);
CREATE INDEX buildsets_submitted_at ON buildsets (submitted_at);
CREATE INDEX buildsets_parent_buildid ON buildsets (parent_buildid);
CREATE INDEX buildsets_rebuilt_buildid ON buildsets (rebuilt_buildid);

-- property_value is the JSON array [value, source]; a name appears once per buildset.
CREATE TABLE buildset_properties (
    buildsetid INTEGER NOT NULL REFERENCES buildsets (id) ON DELETE CASCADE,
    property_name TEXT NOT NULL,
    property_value TEXT NOT NULL
);
CREATE UNIQUE INDEX buildset_properties_unique ON buildset_properties (buildsetid, property_name);

CREATE TABLE buildset_sourcestamps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    buildsetid INTEGER NOT NULL REFERENCES buildsets (id) ON DELETE CASCADE,
    sourcestampid INTEGER NOT NULL REFERENCES sourcestamps (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX buildset_sourcestamps_unique ON buildset_sourcestamps (buildsetid, sourcestampid);
CREATE INDEX buildset_sourcestamps_sourcestampid ON buildset_sourcestamps (sourcestampid);

CREATE TABLE buildrequests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    buildsetid INTEGER NOT NULL REFERENCES buildsets (id) ON DELETE CASCADE,
    builderid INTEGER NOT NULL REFERENCES builders (id) ON DELETE CASCADE,
    priority INTEGER NOT NULL DEFAULT 0,
    complete INTEGER DEFAULT 0,
    results INTEGER,
    submitted_at INTEGER NOT NULL,
    complete_at INTEGER,
    waited_for INTEGER DEFAULT 0
);
CREATE INDEX buildrequests_buildsetid ON buildrequests (buildsetid);
CREATE INDEX buildrequests_builderid ON buildrequests (builderid);
CREATE INDEX buildrequests_complete ON buildrequests (complete);

-- The unique index on brid is the mutual exclusion between masters: a claim is an insert, and
-- exactly one insert per request can succeed.
CREATE TABLE buildrequest_claims (
    brid INTEGER NOT NULL REFERENCES buildrequests (id) ON DELETE CASCADE,
    masterid INTEGER NOT NULL REFERENCES masters (id) ON DELETE CASCADE,
    claimed_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX buildrequest_claims_brids ON buildrequest_claims (brid);
CREATE INDEX buildrequest_claims_masterid ON buildrequest_claims (masterid);

CREATE TABLE builds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number INTEGER NOT NULL,
    builderid INTEGER NOT NULL REFERENCES builders (id) ON DELETE CASCADE,
    buildrequestid INTEGER NOT NULL REFERENCES buildrequests (id) ON DELETE CASCADE,
    workerid INTEGER REFERENCES workers (id) ON DELETE SET NULL,
    masterid INTEGER NOT NULL REFERENCES masters (id) ON DELETE CASCADE,
    started_at INTEGER NOT NULL,
    complete_at INTEGER,
    locks_duration_s INTEGER NOT NULL DEFAULT 0,
    state_string TEXT NOT NULL,
    results INTEGER
);
CREATE UNIQUE INDEX builds_number ON builds (builderid, number);
CREATE INDEX builds_buildrequestid ON builds (buildrequestid);
CREATE INDEX builds_workerid ON builds (workerid);
CREATE INDEX builds_masterid ON builds (masterid);

-- Unlike Buildbot, (buildid, name) is unique so that setting a property is one upsert.
CREATE TABLE build_properties (
    buildid INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE UNIQUE INDEX build_properties_unique ON build_properties (buildid, name);

CREATE TABLE steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number INTEGER NOT NULL,
    name TEXT NOT NULL,
    buildid INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    started_at INTEGER,
    locks_acquired_at INTEGER,
    complete_at INTEGER,
    state_string TEXT NOT NULL,
    results INTEGER,
    urls_json TEXT NOT NULL,
    hidden INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX steps_number ON steps (buildid, number);
CREATE UNIQUE INDEX steps_name ON steps (buildid, name);
CREATE INDEX steps_started_at ON steps (started_at);

CREATE TABLE logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    slug TEXT NOT NULL,
    stepid INTEGER NOT NULL REFERENCES steps (id) ON DELETE CASCADE,
    complete INTEGER NOT NULL,
    num_lines INTEGER NOT NULL,
    type TEXT NOT NULL
);
CREATE UNIQUE INDEX logs_slug ON logs (stepid, slug);

-- Lines first_line..=last_line (0-based) of a log; content is raw (compressed = 0) or zlib
-- (compressed = 1), Buildbot's compression ids.
CREATE TABLE logchunks (
    logid INTEGER NOT NULL REFERENCES logs (id) ON DELETE CASCADE,
    first_line INTEGER NOT NULL,
    last_line INTEGER NOT NULL,
    content BLOB,
    compressed INTEGER NOT NULL
);
CREATE UNIQUE INDEX logchunks_firstline ON logchunks (logid, first_line);
CREATE INDEX logchunks_lastline ON logchunks (logid, last_line);

CREATE TABLE objects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    class_name TEXT NOT NULL
);
CREATE UNIQUE INDEX object_identity ON objects (name, class_name);

CREATE TABLE object_state (
    objectid INTEGER NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value_json TEXT NOT NULL
);
CREATE UNIQUE INDEX name_per_object ON object_state (objectid, name);
