-- +goose Up
-- QR codes and short links (package qr). A code points at a target stored
-- here, behind a random case-sensitive base62 slug (/s/{slug}).

-- Bulk generations: one row per "tables 1..200 of store 88" request.
CREATE TABLE qr_batches (
    id             INTEGER PRIMARY KEY,
    org_id         INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    app_id         TEXT REFERENCES apps (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    param          TEXT NOT NULL DEFAULT '',
    label_template TEXT NOT NULL DEFAULT '',
    first_n        INTEGER NOT NULL,
    last_n         INTEGER NOT NULL,
    created_by     INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX qr_batches_org_idx ON qr_batches (org_id);

CREATE TABLE qr_codes (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    org_id      INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    app_id      TEXT REFERENCES apps (id) ON DELETE CASCADE,
    batch_id    INTEGER REFERENCES qr_batches (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    page        TEXT NOT NULL DEFAULT '',
    query       TEXT NOT NULL DEFAULT '',
    version     TEXT NOT NULL DEFAULT '',
    merchant_id TEXT NOT NULL DEFAULT '',
    order_id    TEXT NOT NULL DEFAULT '',
    label       TEXT NOT NULL DEFAULT '',
    sublabel    TEXT NOT NULL DEFAULT '',
    expires_at  INTEGER NOT NULL DEFAULT 0,
    disabled_at INTEGER NOT NULL DEFAULT 0,
    created_by  INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CONSTRAINT qr_codes_kind_valid CHECK (kind IN ('page', 'trial', 'collect', 'order'))
);
CREATE INDEX qr_codes_org_idx ON qr_codes (org_id, id);
CREATE INDEX qr_codes_app_idx ON qr_codes (app_id, id);
CREATE INDEX qr_codes_batch_idx ON qr_codes (batch_id, id);

-- One row per scan, launch that followed a scan, and payment made through
-- a code. payment_ref is the payments layer's id, unique so a retried hook
-- never counts a payment twice.
CREATE TABLE qr_events (
    id          INTEGER PRIMARY KEY,
    code_id     INTEGER NOT NULL REFERENCES qr_codes (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    account_id  INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    visitor     TEXT NOT NULL DEFAULT '',
    amount      INTEGER NOT NULL DEFAULT 0,
    currency    TEXT NOT NULL DEFAULT '',
    payment_ref TEXT UNIQUE,
    at          INTEGER NOT NULL,
    CONSTRAINT qr_events_kind_valid CHECK (kind IN ('scan', 'launch', 'payment'))
);
CREATE INDEX qr_events_code_idx ON qr_events (code_id, kind, at);

-- +goose Down
DROP TABLE qr_events;
DROP TABLE qr_codes;
DROP TABLE qr_batches;
