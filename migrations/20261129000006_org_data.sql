-- An organisation's own working data: tracked lists, campaigns and flag disputes.

CREATE TABLE tracked_lists (
    list_id         uuid        PRIMARY KEY,
    org_id          uuid        NOT NULL REFERENCES organisations ON DELETE CASCADE,
    name            text        NOT NULL,
    created_by      uuid        REFERENCES users ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tracked_lists_org ON tracked_lists (org_id);

-- Influencers are referred to by (platform, account_id): the serving copy is replaced by each
-- publication, so no foreign key points into it.
CREATE TABLE tracked_list_members (
    list_id         uuid        NOT NULL REFERENCES tracked_lists ON DELETE CASCADE,
    platform        text        NOT NULL,
    account_id      text        NOT NULL,
    added_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (list_id, platform, account_id)
);

CREATE TABLE campaigns (
    campaign_id     uuid        PRIMARY KEY,
    org_id          uuid        NOT NULL REFERENCES organisations ON DELETE CASCADE,
    name            text        NOT NULL,
    brand           text,
    starts_on       date        NOT NULL,
    ends_on         date        NOT NULL CHECK (ends_on >= starts_on),
    hashtags        text[]      NOT NULL DEFAULT '{}',
    status          text        NOT NULL CHECK (status IN ('planned', 'active', 'finished')),
    created_by      uuid        REFERENCES users ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaigns_org ON campaigns (org_id);

CREATE TABLE campaign_members (
    campaign_id     uuid        NOT NULL REFERENCES campaigns ON DELETE CASCADE,
    platform        text        NOT NULL,
    account_id      text        NOT NULL,
    PRIMARY KEY (campaign_id, platform, account_id)
);

-- A dispute of an anomaly flag by an organisation (for example the creator's agency).
CREATE TABLE flag_disputes (
    dispute_id      uuid        PRIMARY KEY,
    org_id          uuid        NOT NULL REFERENCES organisations ON DELETE CASCADE,
    flag_id         text        NOT NULL,
    reason          text        NOT NULL,
    status          text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'rejected')),
    created_by      uuid        REFERENCES users ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, flag_id)
);
