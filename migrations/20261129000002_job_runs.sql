-- The run ledger of the pipeline: one row per run and step.
CREATE TABLE job_runs (
    run_id          TEXT        NOT NULL,
    step            TEXT        NOT NULL,
    status          TEXT        NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'unchanged')),
    full_run        BOOLEAN     NOT NULL DEFAULT false,
    as_of_date      DATE,
    attempt         INTEGER     NOT NULL DEFAULT 1,
    started_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at     TIMESTAMPTZ,
    rows_in         BIGINT,
    rows_out        BIGINT,
    -- Delta version of every table the step read: the watermark of the next incremental run.
    input_versions  JSONB       NOT NULL DEFAULT '{}',
    output_version  BIGINT,
    error           TEXT,
    PRIMARY KEY (run_id, step)
);

-- "The last successful run of this step" is asked at the start of every step.
CREATE INDEX job_runs_step_finished ON job_runs (step, finished_at DESC) WHERE status IN ('succeeded', 'unchanged');
