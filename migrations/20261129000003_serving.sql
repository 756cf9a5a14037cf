-- The serving copy of gold that the API reads. `analisa jobs run --step publish` replaces it in
-- one transaction per run, so a reader sees one run or the next, never a mix.
CREATE SCHEMA serving;

-- One row per publication: which run, which day, which lake versions it copied.
CREATE TABLE serving.publications (
    publication_id  BIGSERIAL   PRIMARY KEY,
    run_id          TEXT        NOT NULL,
    as_of_date      DATE        NOT NULL,
    lake_versions   JSONB       NOT NULL,
    row_counts      JSONB       NOT NULL,
    published_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Influencers as of the newest publication: typed columns for search filters and sorting,
-- the full metrics row and score breakdown as JSON for the profile.
CREATE TABLE serving.influencers (
    platform            TEXT             NOT NULL,
    account_id          TEXT             NOT NULL,
    handle              TEXT             NOT NULL,
    display_name        TEXT,
    niche               TEXT,
    country             TEXT,
    language            TEXT,
    followers           BIGINT           NOT NULL,
    tier                TEXT             NOT NULL,
    engagement_rate     DOUBLE PRECISION,
    engagement_metric   TEXT,
    growth_pct_30d      DOUBLE PRECISION,
    score               DOUBLE PRECISION CHECK (score BETWEEN 0 AND 100),
    confidence          TEXT,
    as_of_date          DATE             NOT NULL,
    metrics             JSONB            NOT NULL,
    scores              JSONB            NOT NULL,
    publication_id      BIGINT           NOT NULL REFERENCES serving.publications,
    PRIMARY KEY (platform, account_id)
);
CREATE INDEX influencers_score ON serving.influencers (score DESC NULLS LAST, platform, account_id);
CREATE INDEX influencers_filters ON serving.influencers (platform, tier, niche);
CREATE INDEX influencers_handle ON serving.influencers (lower(handle) text_pattern_ops);

-- Daily history for charts, partitioned by month (partitions are created as publish needs them).
CREATE TABLE serving.influencer_daily (
    platform        TEXT             NOT NULL,
    account_id      TEXT             NOT NULL,
    date            DATE             NOT NULL,
    followers       BIGINT           NOT NULL,
    follows         BIGINT,
    follower_delta  BIGINT,
    posts           BIGINT           NOT NULL,
    likes           BIGINT,
    comments        BIGINT,
    views           BIGINT,
    er_daily        DOUBLE PRECISION,
    PRIMARY KEY (platform, account_id, date)
) PARTITION BY RANGE (date);

-- Posts with their newest counters and per-post ER.
CREATE TABLE serving.posts (
    platform            TEXT             NOT NULL,
    post_id             TEXT             NOT NULL,
    account_id          TEXT             NOT NULL,
    media_type          TEXT             NOT NULL,
    published_at        TIMESTAMPTZ      NOT NULL,
    caption             TEXT,
    permalink           TEXT,
    is_sponsored        BOOLEAN          NOT NULL,
    likes               BIGINT,
    comments            BIGINT,
    shares              BIGINT,
    saves               BIGINT,
    views               BIGINT,
    er_followers        DOUBLE PRECISION,
    er_views            DOUBLE PRECISION,
    PRIMARY KEY (platform, post_id)
);
CREATE INDEX posts_account ON serving.posts (platform, account_id, published_at DESC);

-- Cohort benchmarks, kept per run date like in the lake.
CREATE TABLE serving.benchmarks (
    run_date        DATE             NOT NULL,
    platform        TEXT             NOT NULL,
    niche           TEXT             NOT NULL,
    tier            TEXT             NOT NULL,
    widened_to      TEXT,
    metric          TEXT             NOT NULL,
    members         BIGINT           NOT NULL,
    p10             DOUBLE PRECISION,
    p25             DOUBLE PRECISION,
    p50             DOUBLE PRECISION,
    p75             DOUBLE PRECISION,
    p90             DOUBLE PRECISION,
    mean            DOUBLE PRECISION,
    PRIMARY KEY (run_date, platform, niche, tier, metric)
);

-- Authenticity flags; disputes refer to flag_id (and survive republishing).
CREATE TABLE serving.anomaly_flags (
    flag_id         TEXT             PRIMARY KEY,
    platform        TEXT             NOT NULL,
    account_id      TEXT             NOT NULL,
    flag_type       TEXT             NOT NULL,
    day             DATE             NOT NULL,
    penalised       BOOLEAN          NOT NULL,
    evidence        JSONB            NOT NULL,
    reason          TEXT             NOT NULL,
    detected_at     TIMESTAMPTZ      NOT NULL
);
CREATE INDEX anomaly_flags_account ON serving.anomaly_flags (platform, account_id, day DESC);
