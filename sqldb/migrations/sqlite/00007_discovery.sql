-- +goose Up
-- Traffic distribution (package discovery): search documents, launch
-- events, "my mini programs", channels, recommendations and analytics.
-- Times are Unix milliseconds; money is minor units.

-- One search document per published mini program, kept by
-- discovery.IndexApp. listed = 0 after RemoveApp (unpublished); removed = 1
-- when the operator took the app out of discovery. Only documents that are
-- listed and not removed are in the full-text index. search_tier is the
-- popularity tier (from launches) whose token the indexed document carries.
CREATE TABLE discovery_apps (
    id             INTEGER PRIMARY KEY,
    app_id         TEXT NOT NULL UNIQUE REFERENCES apps (id) ON DELETE CASCADE,
    org_id         INTEGER NOT NULL,
    name           TEXT NOT NULL,
    short_name     TEXT NOT NULL DEFAULT '',
    keywords       TEXT NOT NULL DEFAULT '',
    description    TEXT NOT NULL DEFAULT '',
    category       TEXT NOT NULL DEFAULT '',
    merchant_name  TEXT NOT NULL DEFAULT '',
    icon_url       TEXT NOT NULL DEFAULT '',
    lat            INTEGER,
    lng            INTEGER,
    geo_cell       INTEGER,
    games          INTEGER NOT NULL DEFAULT 0,
    listed         INTEGER NOT NULL DEFAULT 1,
    removed        INTEGER NOT NULL DEFAULT 0,
    removed_reason TEXT NOT NULL DEFAULT '',
    launches       INTEGER NOT NULL DEFAULT 0,
    search_tier    INTEGER NOT NULL DEFAULT 0,
    updated_at     INTEGER NOT NULL,
    changed_at     INTEGER NOT NULL
);
CREATE INDEX discovery_apps_changed_idx ON discovery_apps (changed_at, app_id);
CREATE INDEX discovery_apps_launches_idx ON discovery_apps (launches, app_id);
CREATE INDEX discovery_apps_category_idx ON discovery_apps (category, launches, app_id);
CREATE INDEX discovery_apps_org_idx ON discovery_apps (org_id);
CREATE INDEX discovery_apps_geo_idx ON discovery_apps (geo_cell, lat, lng, app_id);

-- Latin words of the search documents with the number of documents holding
-- each: the vocabulary that typo correction picks from.
CREATE TABLE discovery_terms (
    id   INTEGER PRIMARY KEY,
    term TEXT NOT NULL UNIQUE,
    docs INTEGER NOT NULL
);

-- Search-only objects (SQLite): tokens made by discovery's Go tokenizer in an
-- FTS5 index whose rowid is search_tier << 40 | discovery_apps.id, so
-- matches come most popular first; and the vocabulary padded with spaces in
-- an FTS5 trigram index (rowid = discovery_terms.id).
-- TestSchemasMatch exempts them: PostgreSQL has its own.
CREATE VIRTUAL TABLE discovery_fts USING fts5 (
    name, tags, body,
    tokenize = 'unicode61 remove_diacritics 0',
    content = '', contentless_delete = 1, prefix = '2 3'
);
CREATE VIRTUAL TABLE discovery_terms_trgm USING fts5 (
    term, tokenize = 'trigram', content = '', contentless_delete = 1
);
-- A deleted app (ON DELETE CASCADE from apps) leaves no tokens behind that
-- could match a later document reusing its id. (PostgreSQL cascades.)
-- +goose StatementBegin
CREATE TRIGGER discovery_apps_fts_delete AFTER DELETE ON discovery_apps BEGIN
    DELETE FROM discovery_fts WHERE rowid = (old.search_tier << 40) | old.id;
END;
-- +goose StatementEnd

-- Every launch of a mini program, with where it came from.
CREATE TABLE discovery_launches (
    id            INTEGER PRIMARY KEY,
    app_id        TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    account_id    INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    scene         TEXT NOT NULL,
    qr_slug       TEXT NOT NULL DEFAULT '',
    source_app_id TEXT NOT NULL DEFAULT '',
    new_user      INTEGER NOT NULL DEFAULT 0,
    foreground_ms INTEGER NOT NULL DEFAULT 0,
    at            INTEGER NOT NULL
);
CREATE INDEX discovery_launches_app_idx ON discovery_launches (app_id, at);
CREATE INDEX discovery_launches_at_idx ON discovery_launches (at);
CREATE INDEX discovery_launches_account_idx ON discovery_launches (account_id);

-- Per account and app: usage for "recent", habits and co-occurrence.
-- morning/afternoon/evening/night count launches by local time of day
-- (05-11, 11-17, 17-22, 22-05).
CREATE TABLE discovery_user_apps (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    app_id     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    first_at   INTEGER NOT NULL,
    last_at    INTEGER NOT NULL,
    launches   INTEGER NOT NULL,
    morning    INTEGER NOT NULL DEFAULT 0,
    afternoon  INTEGER NOT NULL DEFAULT 0,
    evening    INTEGER NOT NULL DEFAULT 0,
    night      INTEGER NOT NULL DEFAULT 0,
    in_recent  INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (account_id, app_id)
);
CREATE INDEX discovery_user_apps_recent_idx ON discovery_user_apps (account_id, last_at);
CREATE INDEX discovery_user_apps_app_idx ON discovery_user_apps (app_id, last_at);

CREATE TABLE discovery_favourites (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    app_id     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, app_id)
);

-- Recommendations a user chose to hide.
CREATE TABLE discovery_hidden (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    app_id     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, app_id)
);

-- Payments made in mini programs (fed by the payments engine through
-- discovery.RecordPayment). ref, when given, makes recording idempotent.
-- currency '' is the platform currency.
CREATE TABLE discovery_payments (
    id                INTEGER PRIMARY KEY,
    ref               TEXT UNIQUE,
    account_id        INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    app_id            TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    merchant_category TEXT NOT NULL DEFAULT '',
    amount            INTEGER NOT NULL,
    currency          TEXT NOT NULL DEFAULT '',
    at                INTEGER NOT NULL,
    CONSTRAINT discovery_payments_amount_positive CHECK (amount > 0)
);
CREATE INDEX discovery_payments_account_idx ON discovery_payments (account_id, at);
CREATE INDEX discovery_payments_app_idx ON discovery_payments (app_id, at);

-- QR code scans that resolved to an app (for scan-to-payment conversion).
CREATE TABLE discovery_scans (
    id         INTEGER PRIMARY KEY,
    app_id     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    qr_slug    TEXT NOT NULL,
    account_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX discovery_scans_app_idx ON discovery_scans (app_id, at);
CREATE INDEX discovery_scans_account_idx ON discovery_scans (account_id);

-- Operator-curated sections of the home page. starts_at/ends_at 0 = open.
CREATE TABLE discovery_channels (
    id         INTEGER PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE,
    title_en   TEXT NOT NULL,
    title_zh   TEXT NOT NULL,
    position   INTEGER NOT NULL,
    games      INTEGER NOT NULL DEFAULT 0,
    starts_at  INTEGER NOT NULL DEFAULT 0,
    ends_at    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE discovery_channel_apps (
    channel_id INTEGER NOT NULL REFERENCES discovery_channels (id) ON DELETE CASCADE,
    app_id     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    starts_at  INTEGER NOT NULL DEFAULT 0,
    ends_at    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (channel_id, app_id)
);
CREATE INDEX discovery_channel_apps_app_idx ON discovery_channel_apps (app_id);

-- Computed by the discovery.refresh job: apps gaining users, and apps used
-- by the same people (score = cosine similarity x 1,000,000).
CREATE TABLE discovery_trending (
    app_id      TEXT PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
    rank        INTEGER NOT NULL,
    users       INTEGER NOT NULL,
    prev_users  INTEGER NOT NULL,
    launches    INTEGER NOT NULL,
    computed_at INTEGER NOT NULL
);
CREATE INDEX discovery_trending_rank_idx ON discovery_trending (rank);

CREATE TABLE discovery_related (
    app_id       TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    related_id   TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    shared_users INTEGER NOT NULL,
    score        INTEGER NOT NULL,
    PRIMARY KEY (app_id, related_id)
);

-- +goose Down
DROP TABLE discovery_related;
DROP TABLE discovery_trending;
DROP TABLE discovery_channel_apps;
DROP TABLE discovery_channels;
DROP TABLE discovery_scans;
DROP TABLE discovery_payments;
DROP TABLE discovery_hidden;
DROP TABLE discovery_favourites;
DROP TABLE discovery_user_apps;
DROP TABLE discovery_launches;
DROP TRIGGER discovery_apps_fts_delete;
DROP TABLE discovery_terms_trgm;
DROP TABLE discovery_fts;
DROP TABLE discovery_terms;
DROP TABLE discovery_apps;
