-- People, organisations and how they sign in. Public influencer data (serving.*) is shared;
-- everything below that names an organisation is private to it and every query filters by it.

CREATE TABLE users (
    user_id         uuid        PRIMARY KEY,
    email           text        NOT NULL,
    display_name    text        NOT NULL,
    -- PHC string of argon2id (algorithm, parameters and salt travel with the hash).
    password_hash   text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE organisations (
    org_id          uuid        PRIMARY KEY,
    name            text        NOT NULL,
    plan            text        NOT NULL CHECK (plan IN ('free', 'pro', 'enterprise')),
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE memberships (
    org_id          uuid        NOT NULL REFERENCES organisations ON DELETE CASCADE,
    user_id         uuid        NOT NULL REFERENCES users ON DELETE CASCADE,
    role            text        NOT NULL CHECK (role IN ('owner', 'admin', 'analyst', 'viewer')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

-- Invitations carry only the hash of their token; the token is shown once to the inviter.
CREATE TABLE invitations (
    invitation_id   uuid        PRIMARY KEY,
    org_id          uuid        NOT NULL REFERENCES organisations ON DELETE CASCADE,
    email           text        NOT NULL,
    role            text        NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer')),
    token_hash      bytea       NOT NULL UNIQUE,
    invited_by      uuid        NOT NULL REFERENCES users,
    expires_at      timestamptz NOT NULL,
    accepted_at     timestamptz,
    revoked_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Refresh tokens rotate: each use retires the token and issues the next one of its family.
-- Presenting a retired token again means it was stolen, so the whole family is revoked.
CREATE TABLE refresh_tokens (
    token_hash      bytea       PRIMARY KEY,
    family_id       uuid        NOT NULL,
    user_id         uuid        NOT NULL REFERENCES users ON DELETE CASCADE,
    issued_at       timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- One row per sign-in session (a refresh family); revoking it ends its access tokens too.
CREATE TABLE sessions (
    family_id       uuid        PRIMARY KEY,
    user_id         uuid        NOT NULL REFERENCES users ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz,
    revoked_reason  text
);

-- Machine clients. The secret part is stored as a SHA-256 hash (it is 256 random bits, so a
-- slow hash adds nothing); the prefix identifies the key in lists and logs.
CREATE TABLE api_keys (
    key_id          uuid        PRIMARY KEY,
    org_id          uuid        NOT NULL REFERENCES organisations ON DELETE CASCADE,
    name            text        NOT NULL,
    prefix          text        NOT NULL UNIQUE,
    secret_hash     bytea       NOT NULL,
    scope           text        NOT NULL CHECK (scope IN ('read', 'write')),
    created_by      uuid        NOT NULL REFERENCES users,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz,
    revoked_at      timestamptz
);
CREATE INDEX api_keys_org ON api_keys (org_id);

-- Failed sign-ins, for throttling (kept in PostgreSQL so it holds when Redis is down).
CREATE TABLE login_failures (
    email           text        NOT NULL,
    failed_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email ON login_failures (lower(email), failed_at DESC);
