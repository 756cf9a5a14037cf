-- The audit log (G4): append-only, each row carrying the SHA-256 of the previous row's hash and
-- its own content, so that editing, deleting or reordering any row breaks the chain
-- (`analisa audit verify`). Writers serialise on an advisory lock to extend one chain.
CREATE TABLE audit_log (
    seq             bigint      PRIMARY KEY,
    at              timestamptz NOT NULL,
    org_id          uuid,
    actor           text        NOT NULL,
    action          text        NOT NULL,
    target          text        NOT NULL,
    -- JSON text exactly as hashed (jsonb would reorder keys and break the hash).
    details         text        NOT NULL,
    prev_hash       bytea       NOT NULL,
    hash            bytea       NOT NULL
);
CREATE INDEX audit_log_org ON audit_log (org_id, seq DESC);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
