-- +goose Up
-- Payments (package pay): a double-entry ledger, merchants, orders, refunds,
-- coupons, payment codes and webhook events. Money is INTEGER minor units
-- with a currency column; times are Unix milliseconds.

-- Ledger accounts. kind/owner name the holder: a user wallet (owner =
-- accounts.id), a merchant's settlement account (owner = pay_merchants.id),
-- a coupon campaign's budget (owner = pay_campaigns.id), the platform's fee
-- income, marketing budget and capital, and a top-up provider's funding
-- source. Only capital and funding sources may go below zero: they stand for
-- money that came in from outside.
CREATE TABLE pay_accounts (
    id             INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL,
    owner          TEXT NOT NULL,
    currency       TEXT NOT NULL,
    balance        INTEGER NOT NULL DEFAULT 0,
    allow_negative INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    CONSTRAINT pay_accounts_kind_valid CHECK (kind IN ('wallet', 'merchant', 'campaign', 'fee_income', 'marketing', 'capital', 'funding')),
    CONSTRAINT pay_accounts_balance_nonneg CHECK (allow_negative = 1 OR balance >= 0)
);
CREATE UNIQUE INDEX pay_accounts_holder_idx ON pay_accounts (kind, owner, currency);

-- Journal entries and their postings. Never updated or deleted (triggers
-- below); a correction is a new entry. The postings of an entry sum to zero
-- per currency.
CREATE TABLE pay_entries (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    ref        TEXT NOT NULL DEFAULT '',
    memo       TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

CREATE TABLE pay_postings (
    id            INTEGER PRIMARY KEY,
    entry_id      INTEGER NOT NULL REFERENCES pay_entries (id),
    account_id    INTEGER NOT NULL REFERENCES pay_accounts (id),
    currency      TEXT NOT NULL,
    amount        INTEGER NOT NULL,
    balance_after INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    CONSTRAINT pay_postings_amount_nonzero CHECK (amount <> 0)
);
CREATE INDEX pay_postings_entry_idx ON pay_postings (entry_id);
CREATE INDEX pay_postings_account_idx ON pay_postings (account_id, created_at);

-- +goose StatementBegin
CREATE TRIGGER pay_entries_immutable_update BEFORE UPDATE ON pay_entries
BEGIN SELECT RAISE(ABORT, 'pay_entries are immutable'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER pay_entries_immutable_delete BEFORE DELETE ON pay_entries
BEGIN SELECT RAISE(ABORT, 'pay_entries are immutable'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER pay_postings_immutable_update BEFORE UPDATE ON pay_postings
BEGIN SELECT RAISE(ABORT, 'pay_postings are immutable'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER pay_postings_immutable_delete BEFORE DELETE ON pay_postings
BEGIN SELECT RAISE(ABORT, 'pay_postings are immutable'); END;
-- +goose StatementEnd

-- Merchants: offline or online businesses of a developer organisation.
-- Locations are microdegrees.
CREATE TABLE pay_merchants (
    id             INTEGER PRIMARY KEY,
    org_id         INTEGER NOT NULL REFERENCES orgs (id) ON DELETE RESTRICT,
    name           TEXT NOT NULL,
    category       TEXT NOT NULL,
    latitude_e6    INTEGER NOT NULL DEFAULT 0,
    longitude_e6   INTEGER NOT NULL DEFAULT 0,
    address        TEXT NOT NULL DEFAULT '',
    account_id     INTEGER NOT NULL REFERENCES pay_accounts (id),
    webhook_url    TEXT NOT NULL DEFAULT '',
    webhook_secret TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL DEFAULT 'active',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    CONSTRAINT pay_merchants_status_valid CHECK (status IN ('active', 'suspended')),
    CONSTRAINT pay_merchants_location_valid CHECK (latitude_e6 BETWEEN -90000000 AND 90000000 AND longitude_e6 BETWEEN -180000000 AND 180000000)
);
CREATE INDEX pay_merchants_org_idx ON pay_merchants (org_id);
CREATE INDEX pay_merchants_category_idx ON pay_merchants (category);

CREATE TABLE pay_merchant_apps (
    merchant_id INTEGER NOT NULL REFERENCES pay_merchants (id) ON DELETE CASCADE,
    app_id      TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, app_id)
);
CREATE INDEX pay_merchant_apps_app_idx ON pay_merchant_apps (app_id);

-- API credentials for merchant servers; the secret is stored as SHA-256.
CREATE TABLE pay_merchant_keys (
    key_id       TEXT PRIMARY KEY,
    merchant_id  INTEGER NOT NULL REFERENCES pay_merchants (id) ON DELETE CASCADE,
    secret_hash  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0,
    revoked_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX pay_merchant_keys_merchant_idx ON pay_merchant_keys (merchant_id);

-- Platform fee per merchant category, in basis points, and promotional
-- waivers per merchant (a period, optionally capped by volume).
CREATE TABLE pay_fee_rates (
    category   TEXT PRIMARY KEY,
    fee_bp     INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CONSTRAINT pay_fee_rates_bp_valid CHECK (fee_bp BETWEEN 0 AND 10000)
);

CREATE TABLE pay_fee_waivers (
    id          INTEGER PRIMARY KEY,
    merchant_id INTEGER NOT NULL REFERENCES pay_merchants (id) ON DELETE CASCADE,
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL,
    volume_cap  INTEGER NOT NULL DEFAULT 0,
    volume_used INTEGER NOT NULL DEFAULT 0,
    note        TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    CONSTRAINT pay_fee_waivers_volume_valid CHECK (volume_used >= 0 AND (volume_cap = 0 OR volume_used <= volume_cap))
);
CREATE INDEX pay_fee_waivers_merchant_idx ON pay_fee_waivers (merchant_id, ends_at);

-- Platform-funded coupon campaigns. The remaining budget is the balance of
-- the campaign's ledger account.
CREATE TABLE pay_campaigns (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    currency        TEXT NOT NULL,
    account_id      INTEGER NOT NULL REFERENCES pay_accounts (id),
    budget          INTEGER NOT NULL,
    discount_amount INTEGER NOT NULL DEFAULT 0,
    discount_bp     INTEGER NOT NULL DEFAULT 0,
    max_discount    INTEGER NOT NULL DEFAULT 0,
    min_spend       INTEGER NOT NULL DEFAULT 0,
    categories      TEXT NOT NULL DEFAULT '',
    per_user_limit  INTEGER NOT NULL DEFAULT 1,
    starts_at       INTEGER NOT NULL,
    ends_at         INTEGER NOT NULL,
    state           TEXT NOT NULL DEFAULT 'active',
    created_at      INTEGER NOT NULL,
    closed_at       INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT pay_campaigns_state_valid CHECK (state IN ('active', 'closed')),
    CONSTRAINT pay_campaigns_budget_valid CHECK (budget > 0)
);

-- Payment orders.
CREATE TABLE pay_orders (
    id                TEXT PRIMARY KEY,
    merchant_id       INTEGER NOT NULL REFERENCES pay_merchants (id),
    app_id            TEXT REFERENCES apps (id) ON DELETE SET NULL,
    merchant_order_no TEXT,
    source            TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    items             TEXT NOT NULL DEFAULT '',
    currency          TEXT NOT NULL,
    amount            INTEGER NOT NULL,
    state             TEXT NOT NULL,
    payer_id          INTEGER REFERENCES accounts (id),
    campaign_id       INTEGER REFERENCES pay_campaigns (id),
    discount          INTEGER NOT NULL DEFAULT 0,
    fee               INTEGER NOT NULL DEFAULT 0,
    refunded          INTEGER NOT NULL DEFAULT 0,
    refunded_discount INTEGER NOT NULL DEFAULT 0,
    refunded_fee      INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    paid_at           INTEGER NOT NULL DEFAULT 0,
    closed_at         INTEGER NOT NULL DEFAULT 0,
    updated_at        INTEGER NOT NULL,
    CONSTRAINT pay_orders_state_valid CHECK (state IN ('created', 'paid', 'partly_refunded', 'refunded', 'closed')),
    CONSTRAINT pay_orders_source_valid CHECK (source IN ('api', 'collection', 'payment_code')),
    CONSTRAINT pay_orders_amounts_valid CHECK (amount > 0 AND discount BETWEEN 0 AND amount AND fee BETWEEN 0 AND amount
        AND refunded BETWEEN 0 AND amount AND refunded_discount BETWEEN 0 AND discount AND refunded_fee BETWEEN 0 AND fee)
);
CREATE UNIQUE INDEX pay_orders_merchant_no_idx ON pay_orders (merchant_id, merchant_order_no);
CREATE INDEX pay_orders_merchant_created_idx ON pay_orders (merchant_id, created_at);
CREATE INDEX pay_orders_payer_idx ON pay_orders (payer_id, created_at);
-- Only open orders are indexed by expiry: paying an order drops it here.
CREATE INDEX pay_orders_expiry_idx ON pay_orders (expires_at) WHERE state = 'created';

CREATE TABLE pay_coupon_redemptions (
    campaign_id INTEGER NOT NULL REFERENCES pay_campaigns (id),
    order_id    TEXT NOT NULL REFERENCES pay_orders (id),
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    amount      INTEGER NOT NULL,
    released    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, order_id)
);
CREATE INDEX pay_coupon_redemptions_user_idx ON pay_coupon_redemptions (campaign_id, account_id);

CREATE TABLE pay_refunds (
    id            TEXT PRIMARY KEY,
    order_id      TEXT NOT NULL REFERENCES pay_orders (id),
    merchant_id   INTEGER NOT NULL REFERENCES pay_merchants (id),
    amount        INTEGER NOT NULL,
    user_amount   INTEGER NOT NULL,
    coupon_amount INTEGER NOT NULL,
    fee_amount    INTEGER NOT NULL,
    reason        TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    CONSTRAINT pay_refunds_state_valid CHECK (state IN ('succeeded')),
    CONSTRAINT pay_refunds_amounts_valid CHECK (amount > 0 AND user_amount + coupon_amount = amount AND fee_amount BETWEEN 0 AND amount)
);
CREATE INDEX pay_refunds_order_idx ON pay_refunds (order_id);
CREATE INDEX pay_refunds_merchant_idx ON pay_refunds (merchant_id, created_at);

-- Idempotency keys of merchant and user requests, kept at least 24 hours.
CREATE TABLE pay_idempotency (
    scope        TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    result_id    TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (scope, idem_key)
);
CREATE INDEX pay_idempotency_created_idx ON pay_idempotency (created_at);

-- Per-user wallet settings: payment PIN (argon2id) and the amount up to
-- which a user-presented payment code needs no PIN. pin_failures is
-- non-zero while the shared lockout (rate_limits) may hold failures for the
-- user, so a payment checks the lockout only then.
CREATE TABLE pay_users (
    account_id   INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    pin_hash     TEXT NOT NULL DEFAULT '',
    no_pin_limit INTEGER NOT NULL DEFAULT 0,
    pin_failures INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    CONSTRAINT pay_users_limit_valid CHECK (no_pin_limit >= 0)
);

-- User-presented one-time payment codes, stored as SHA-256.
CREATE TABLE pay_codes (
    code_hash  TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER NOT NULL DEFAULT 0,
    order_id   TEXT
);
CREATE INDEX pay_codes_account_idx ON pay_codes (account_id);
CREATE INDEX pay_codes_expires_idx ON pay_codes (expires_at);

CREATE TABLE pay_topups (
    id           TEXT PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    provider     TEXT NOT NULL,
    amount       INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    state        TEXT NOT NULL,
    reference    TEXT NOT NULL DEFAULT '',
    notice       TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    completed_at INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT pay_topups_state_valid CHECK (state IN ('pending', 'succeeded', 'failed')),
    CONSTRAINT pay_topups_amount_valid CHECK (amount > 0)
);
CREATE INDEX pay_topups_account_idx ON pay_topups (account_id, created_at);

-- Webhook events (one per order or refund state change) and their
-- delivery attempts.
CREATE TABLE pay_events (
    id           TEXT PRIMARY KEY,
    merchant_id  INTEGER NOT NULL REFERENCES pay_merchants (id),
    type         TEXT NOT NULL,
    order_id     TEXT NOT NULL,
    refund_id    TEXT,
    payload      TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    delivered_at INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT pay_events_state_valid CHECK (state IN ('pending', 'delivered', 'failed', 'no_endpoint'))
);
CREATE INDEX pay_events_merchant_idx ON pay_events (merchant_id, created_at);
CREATE INDEX pay_events_order_idx ON pay_events (order_id);

CREATE TABLE pay_webhook_deliveries (
    id            INTEGER PRIMARY KEY,
    event_id      TEXT NOT NULL REFERENCES pay_events (id),
    attempt       INTEGER NOT NULL,
    manual        INTEGER NOT NULL DEFAULT 0,
    url           TEXT NOT NULL,
    status        TEXT NOT NULL,
    response_code INTEGER NOT NULL DEFAULT 0,
    error         TEXT NOT NULL DEFAULT '',
    duration_ms   INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    CONSTRAINT pay_webhook_deliveries_status_valid CHECK (status IN ('succeeded', 'failed'))
);
CREATE INDEX pay_webhook_deliveries_event_idx ON pay_webhook_deliveries (event_id);

-- +goose Down
DROP TABLE pay_webhook_deliveries;
DROP TABLE pay_events;
DROP TABLE pay_topups;
DROP TABLE pay_codes;
DROP TABLE pay_users;
DROP TABLE pay_idempotency;
DROP TABLE pay_refunds;
DROP TABLE pay_coupon_redemptions;
DROP TABLE pay_orders;
DROP TABLE pay_campaigns;
DROP TABLE pay_fee_waivers;
DROP TABLE pay_fee_rates;
DROP TABLE pay_merchant_keys;
DROP TABLE pay_merchant_apps;
DROP TABLE pay_merchants;
DROP TABLE pay_postings;
DROP TABLE pay_entries;
DROP TABLE pay_accounts;
