-- +goose Up
-- Identity (package identity): host users' verification state and profile,
-- verification codes and the development mailbox, per-app and per-org
-- pseudonymous user ids, consent, one-time auth codes, OAuth access tokens
-- and the OpenID Connect signing keys. Times are Unix milliseconds.

-- Host-user extras of an account (accounts holds email, phone, name).
CREATE TABLE identity_users (
    account_id        INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    avatar_key        TEXT NOT NULL DEFAULT '',
    email_verified_at INTEGER NOT NULL DEFAULT 0,
    phone_verified_at INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

-- Verification challenges: a code sent to an e-mail address or phone
-- number, stored as an HMAC. payload carries what the challenge completes
-- (for a sign-up: the name and password hash).
CREATE TABLE identity_challenges (
    id          TEXT PRIMARY KEY,
    purpose     TEXT NOT NULL,
    destination TEXT NOT NULL,
    account_id  INTEGER REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash   TEXT NOT NULL,
    payload     TEXT NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT identity_challenges_purpose_valid CHECK (purpose IN ('signup', 'signin', 'reset'))
);
CREATE INDEX identity_challenges_expires_idx ON identity_challenges (expires_at);

-- Development mailbox: every message the default sender "sent".
CREATE TABLE identity_messages (
    id          INTEGER PRIMARY KEY,
    channel     TEXT NOT NULL,
    destination TEXT NOT NULL,
    subject     TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    CONSTRAINT identity_messages_channel_valid CHECK (channel IN ('email', 'sms'))
);
CREATE INDEX identity_messages_created_idx ON identity_messages (created_at);

-- Pseudonymous ids handed out, for reverse look-ups. kind is 'app' (subject
-- = an app id) or 'org' (subject = an org id).
CREATE TABLE identity_subjects (
    pseudonym  TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    CONSTRAINT identity_subjects_kind_valid CHECK (kind IN ('app', 'org'))
);
CREATE UNIQUE INDEX identity_subjects_account_idx ON identity_subjects (account_id, kind, subject);

-- Consent: what each user allowed each mini program, with the reason the
-- app's manifest gave. The base scope openid is recorded silently.
CREATE TABLE identity_grants (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    app_id     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, app_id, scope)
);
CREATE INDEX identity_grants_app_idx ON identity_grants (app_id);

-- One-time auth codes, stored as SHA-256.
CREATE TABLE identity_auth_codes (
    code_hash  TEXT PRIMARY KEY,
    app_id     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    nonce      TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX identity_auth_codes_expires_idx ON identity_auth_codes (expires_at);

-- OAuth access tokens, stored as SHA-256, with the code that issued them
-- (so a replayed code revokes them).
CREATE TABLE identity_tokens (
    token_hash TEXT PRIMARY KEY,
    code_hash  TEXT NOT NULL,
    app_id     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX identity_tokens_code_idx ON identity_tokens (code_hash);
CREATE INDEX identity_tokens_account_idx ON identity_tokens (account_id, app_id);
CREATE INDEX identity_tokens_expires_idx ON identity_tokens (expires_at);

-- Signing keys (JWK with the private part), shared by every replica. A key
-- is published from created_at, signs from activate_at, and is removed
-- after expires_at (0: not yet superseded).
CREATE TABLE identity_keys (
    kid         TEXT PRIMARY KEY,
    alg         TEXT NOT NULL,
    jwk         TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    activate_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE identity_keys;
DROP TABLE identity_tokens;
DROP TABLE identity_auth_codes;
DROP TABLE identity_grants;
DROP TABLE identity_subjects;
DROP TABLE identity_messages;
DROP TABLE identity_challenges;
DROP TABLE identity_users;
