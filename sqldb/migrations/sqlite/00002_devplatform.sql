-- +goose Up
-- The developer platform: admission, organisations, API keys, apps and
-- their settings, versions, review, gradual release and the audit log.

ALTER TABLE orgs ADD COLUMN status TEXT NOT NULL DEFAULT 'active';

ALTER TABLE apps ADD COLUMN short_name TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN icon_key TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN allowed_domains TEXT NOT NULL DEFAULT '[]';
ALTER TABLE apps ADD COLUMN webhook_url TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN trial_version_id INTEGER;
ALTER TABLE apps ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;

-- Invitations: with org_id NULL an invitation admits a new organisation
-- (invite-only admission); with an org_id it adds a member with a role.
CREATE TABLE invitations (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    org_id      INTEGER REFERENCES orgs (id) ON DELETE CASCADE,
    role        TEXT NOT NULL DEFAULT 'owner',
    email       TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    max_uses    INTEGER NOT NULL,
    uses        INTEGER NOT NULL DEFAULT 0,
    expires_at  INTEGER NOT NULL,
    created_by  INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT invitations_uses_valid CHECK (uses >= 0 AND uses <= max_uses),
    CONSTRAINT invitations_role_valid CHECK (role IN ('owner', 'developer', 'viewer'))
);
CREATE INDEX invitations_org_idx ON invitations (org_id);

-- API keys for the CLI and CI, scoped to an organisation and optionally one app.
CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    app_id       TEXT REFERENCES apps (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_by   INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0,
    revoked_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_org_idx ON api_keys (org_id);

-- App categories, defined by the operator.
CREATE TABLE categories (
    slug     TEXT PRIMARY KEY,
    name_en  TEXT NOT NULL,
    name_zh  TEXT NOT NULL,
    is_game  INTEGER NOT NULL DEFAULT 0,
    position INTEGER NOT NULL DEFAULT 0
);

INSERT INTO categories (slug, name_en, name_zh, is_game, position) VALUES
    ('food', 'Food & drink', '餐饮美食', 0, 1),
    ('shopping', 'Shopping', '购物', 0, 2),
    ('travel', 'Travel & transport', '出行交通', 0, 3),
    ('lifestyle', 'Lifestyle', '生活服务', 0, 4),
    ('tools', 'Tools', '工具', 0, 5),
    ('education', 'Education', '教育', 0, 6),
    ('government', 'City services', '政务民生', 0, 7),
    ('games', 'Games', '游戏', 1, 8);

-- App secrets: the current one has expires_at 0; a rotated one keeps
-- working until its expires_at.
CREATE TABLE app_secrets (
    id          INTEGER PRIMARY KEY,
    app_id      TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    prefix      TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX app_secrets_app_idx ON app_secrets (app_id);

CREATE TABLE app_testers (
    app_id     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, account_id)
);
CREATE INDEX app_testers_account_idx ON app_testers (account_id);

-- Versions: one uploaded package each.
CREATE TABLE versions (
    id             INTEGER PRIMARY KEY,
    app_id         TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    version        TEXT NOT NULL,
    code           INTEGER NOT NULL,
    note           TEXT NOT NULL DEFAULT '',
    state          TEXT NOT NULL,
    pkg_sha256     TEXT NOT NULL,
    pkg_size       INTEGER NOT NULL,
    pkg_key        TEXT NOT NULL,
    signature      TEXT NOT NULL,
    manifest       TEXT NOT NULL,
    files          TEXT NOT NULL,
    uncompressed   INTEGER NOT NULL,
    uploaded_by    TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    submitted_at   INTEGER NOT NULL DEFAULT 0,
    reviewed_by    TEXT NOT NULL DEFAULT '',
    reviewed_at    INTEGER NOT NULL DEFAULT 0,
    review_reason  TEXT NOT NULL DEFAULT '',
    released_at    INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT versions_state_valid CHECK (state IN ('development', 'review', 'rejected', 'approved', 'released')),
    CONSTRAINT versions_app_version_unique UNIQUE (app_id, version)
);
CREATE INDEX versions_state_idx ON versions (state, submitted_at);

-- The release of each app: who gets which version. With a previous
-- version and percent < 100, a stable hash of the user picks one of the two.
CREATE TABLE releases (
    app_id              TEXT PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
    version_id          INTEGER NOT NULL REFERENCES versions (id),
    previous_version_id INTEGER REFERENCES versions (id),
    percent             INTEGER NOT NULL,
    paused              INTEGER NOT NULL DEFAULT 0,
    updated_at          INTEGER NOT NULL,
    CONSTRAINT releases_percent_valid CHECK (percent >= 0 AND percent <= 100)
);

-- Who did what, when: read by the organisation and the operator.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER REFERENCES orgs (id) ON DELETE SET NULL,
    app_id     TEXT,
    actor_id   INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX audit_log_org_idx ON audit_log (org_id, id);
CREATE INDEX audit_log_app_idx ON audit_log (app_id, id);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE releases;
DROP TABLE versions;
DROP TABLE app_testers;
DROP TABLE app_secrets;
DROP TABLE categories;
DROP TABLE api_keys;
DROP TABLE invitations;
ALTER TABLE apps DROP COLUMN updated_at;
ALTER TABLE apps DROP COLUMN trial_version_id;
ALTER TABLE apps DROP COLUMN webhook_url;
ALTER TABLE apps DROP COLUMN allowed_domains;
ALTER TABLE apps DROP COLUMN icon_key;
ALTER TABLE apps DROP COLUMN short_name;
ALTER TABLE orgs DROP COLUMN status;
