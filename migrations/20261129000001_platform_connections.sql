-- Connected platform accounts and their OAuth tokens. Tokens are sealed with AES-256-GCM
-- (12-byte nonce || ciphertext+tag; the platform and account are authenticated data) under
-- the key in `ingest.token_key`: a database dump alone never yields a usable token.
CREATE TABLE platform_connections (
    id uuid PRIMARY KEY,
    -- Organisation that connected the account (organisations arrive with the API).
    org_id text,
    platform text NOT NULL,
    account_id text NOT NULL,
    scopes text[] NOT NULL DEFAULT '{}',
    status text NOT NULL CHECK (status IN ('active', 'needs_reauth', 'revoked')),
    access_token bytea NOT NULL,
    refresh_token bytea,
    access_expires_at timestamptz,
    refresh_expires_at timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (platform, account_id)
);

-- Pending authorisations: the `state` sent to the platform, bound to what it may complete.
CREATE TABLE oauth_states (
    state text PRIMARY KEY,
    platform text NOT NULL,
    redirect_uri text NOT NULL,
    -- Sealed PKCE verifier, for platforms that take one.
    code_verifier bytea,
    -- What the connection is for when the platform's answer does not say (a GA4 property).
    account_hint text,
    org_id text,
    expires_at timestamptz NOT NULL
);
