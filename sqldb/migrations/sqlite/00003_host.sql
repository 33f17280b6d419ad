-- +goose Up
-- The host: per-user, per-app storage that the JS SDK's setStorage and
-- getStorage use, and the device permissions a user granted a mini program.
-- owner is "a:<account id>" for signed-in users and "d:<device id>" for
-- anonymous ones.
CREATE TABLE host_storage (
    owner      TEXT NOT NULL,
    app_id     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    size       INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (owner, app_id, key)
);

CREATE TABLE host_consents (
    owner      TEXT NOT NULL,
    app_id     TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    granted    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (owner, app_id, permission)
);

-- +goose Down
DROP TABLE host_consents;
DROP TABLE host_storage;
