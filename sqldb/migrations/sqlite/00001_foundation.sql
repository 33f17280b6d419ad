-- +goose Up
-- Platform-wide settings and secrets (setup token, signing keys, policy).
CREATE TABLE platform_settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Everyone who signs in: operator staff, developers, users of the host.
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    email         TEXT UNIQUE,
    phone         TEXT UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL DEFAULT '',
    staff_role    TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    CONSTRAINT accounts_staff_role_valid CHECK (staff_role IN ('', 'admin', 'reviewer'))
);

-- Browser sessions, shared by every replica.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_account_idx ON sessions (account_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- Fixed-window rate limit counters, shared by every replica.
CREATE TABLE rate_limits (
    bucket       TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    hits         INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX rate_limits_expires_idx ON rate_limits (expires_at);

-- Durable background jobs (webhooks, roll-ups, clean-ups).
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    unique_key   TEXT UNIQUE,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at       INTEGER NOT NULL,
    locked_by    TEXT NOT NULL DEFAULT '',
    locked_until INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT jobs_state_valid CHECK (state IN ('queued', 'running', 'done', 'failed'))
);
CREATE INDEX jobs_ready_idx ON jobs (state, run_at);

-- Developer organisations and their members.
CREATE TABLE orgs (
    id         INTEGER PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE org_members (
    org_id     INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, account_id),
    CONSTRAINT org_members_role_valid CHECK (role IN ('owner', 'developer', 'viewer'))
);
CREATE INDEX org_members_account_idx ON org_members (account_id);

-- Mini programs. The id is a DNS label: it becomes the app's origin.
CREATE TABLE apps (
    id          TEXT PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs (id) ON DELETE RESTRICT,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    category    TEXT NOT NULL DEFAULT '',
    keywords    TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX apps_org_idx ON apps (org_id);

-- +goose Down
DROP TABLE apps;
DROP TABLE org_members;
DROP TABLE orgs;
DROP TABLE jobs;
DROP TABLE rate_limits;
DROP TABLE sessions;
DROP TABLE accounts;
DROP TABLE platform_settings;
