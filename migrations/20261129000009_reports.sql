-- Report exports: definitions per organisation (every change is a new version, kept, so a
-- run names exactly what it produced), and their runs.

CREATE TABLE report_definitions (
    report_id       uuid        PRIMARY KEY,
    org_id          uuid        NOT NULL REFERENCES organisations ON DELETE CASCADE,
    -- Sees the failures of scheduled runs.
    owner_id        uuid        REFERENCES users ON DELETE SET NULL,
    name            text        NOT NULL,
    version         integer     NOT NULL DEFAULT 1,
    -- Scope, sections, metrics, period, format, language (jobs::reports::ReportSpec).
    spec            jsonb       NOT NULL,
    -- A cron expression read in `time_zone`; null for reports run only on demand.
    schedule        text,
    time_zone       text        NOT NULL DEFAULT 'America/Sao_Paulo',
    delivery        jsonb       NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_definitions_org ON report_definitions (org_id);

CREATE TABLE report_definition_versions (
    report_id       uuid        NOT NULL REFERENCES report_definitions ON DELETE CASCADE,
    version         integer     NOT NULL,
    name            text        NOT NULL,
    spec            jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (report_id, version)
);

CREATE TABLE report_runs (
    run_id              uuid        PRIMARY KEY,
    report_id           uuid        NOT NULL REFERENCES report_definitions ON DELETE CASCADE,
    org_id              uuid        NOT NULL REFERENCES organisations ON DELETE CASCADE,
    definition_version  integer     NOT NULL,
    trigger             text        NOT NULL CHECK (trigger IN ('schedule', 'manual', 'rerun')),
    -- The schedule occurrence a scheduled run is for: unique, so two schedulers cannot both
    -- start it.
    due_at              timestamptz,
    rerun_of            uuid        REFERENCES report_runs ON DELETE SET NULL,
    requested_by        uuid        REFERENCES users ON DELETE SET NULL,
    status              text        NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    attempts            integer     NOT NULL DEFAULT 0,
    error               text,
    manifest            jsonb,
    -- What became of the deliveries (webhook) of a succeeded run.
    delivery            jsonb,
    started_at          timestamptz NOT NULL DEFAULT now(),
    finished_at         timestamptz,
    UNIQUE (report_id, due_at)
);
CREATE INDEX report_runs_report ON report_runs (report_id, started_at DESC);
