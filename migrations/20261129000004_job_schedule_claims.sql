-- Which scheduler took which due time of which schedule: the primary key lets exactly one of
-- any number of schedulers run a schedule's occurrence.
CREATE TABLE job_schedule_claims (
    schedule    TEXT        NOT NULL,
    due_at      TIMESTAMPTZ NOT NULL,
    claimed_by  TEXT        NOT NULL,
    claimed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    run_id      TEXT        NOT NULL,
    PRIMARY KEY (schedule, due_at)
);
