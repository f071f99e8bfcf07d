-- +goose Up
-- Users' sign-in: sessions (user access tokens with where they came from), TOTP second factor,
-- recovery codes, one-time e-mailed tokens (password reset), organization invitations and the
-- devices a user has signed in from. Secrets here are stored hashed (SHA-256 of a random
-- token) or sealed by internal/keyring (the TOTP secret); none is stored in the clear.
ALTER TABLE users ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN enforce_mfa BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE access_tokens ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE access_tokens ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';

-- last_step is the RFC 6238 time step of the last code accepted: a code of that step or an
-- earlier one is refused (replay protection).
CREATE TABLE user_totp (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret     BYTEA NOT NULL,
    confirmed  BOOLEAN NOT NULL DEFAULT FALSE,
    last_step  BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE user_recovery_codes (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       BYTEA NOT NULL,
    used_at    BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX user_recovery_codes_user ON user_recovery_codes (user_id);

-- One-time tokens sent by e-mail (kind "password-reset"): single use, expiring.
CREATE TABLE user_tokens (
    hash       BYTEA PRIMARY KEY,
    kind       TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX user_tokens_user ON user_tokens (user_id);

CREATE TABLE invitations (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL,
    token_hash  BYTEA NOT NULL UNIQUE,
    invited_by  TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    accepted_at BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);
CREATE INDEX invitations_org ON invitations (org_id);

-- device is SHA-256 of (IP, user agent): a sign-in from a new one sends an alert.
CREATE TABLE user_devices (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, device)
);

-- +goose Down
DROP TABLE user_devices;
DROP TABLE invitations;
DROP TABLE user_tokens;
DROP TABLE user_recovery_codes;
DROP TABLE user_totp;
ALTER TABLE access_tokens DROP COLUMN user_agent;
ALTER TABLE access_tokens DROP COLUMN ip;
ALTER TABLE organizations DROP COLUMN enforce_mfa;
ALTER TABLE users DROP COLUMN name;
