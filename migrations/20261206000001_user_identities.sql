-- Social sign-in: platform identities (the Facebook user id, Instagram user id or TikTok
-- open_id of the person who consented) linked to Analisa users. A user links one while signed
-- in; afterwards "sign in with …" finds the user by it. Erasing a user erases the links.
CREATE TABLE user_identities (
    platform text NOT NULL CHECK (platform IN ('facebook', 'instagram', 'tiktok')),
    subject text NOT NULL,
    user_id uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz,
    PRIMARY KEY (platform, subject),
    UNIQUE (user_id, platform)
);

-- What a pending authorisation may finish: connecting an account for collection (bound to an
-- organisation), a sign-in, or linking an identity to the user who began it.
ALTER TABLE oauth_states
    ADD COLUMN purpose text NOT NULL DEFAULT 'connect' CHECK (purpose IN ('connect', 'login', 'link')),
    ADD COLUMN user_id uuid;
-- Sign-ins can be begun by anyone: expired states are deleted as new ones begin.
CREATE INDEX oauth_states_expiry ON oauth_states (expires_at);
