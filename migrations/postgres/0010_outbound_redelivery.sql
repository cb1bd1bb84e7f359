-- Emails that wait for their transport are kept in the database, not in a host's memory, so
-- that a restart or another host delivers them.
--
-- `next_attempt_at`: when a `queued` email is next due for the re-delivery worker. Set at
-- insert to just after the sender's own retry budget (a host that dies mid-send leaves the
-- email to the worker), moved forward while the circuit is open, and cleared once the email
-- is sent or failed. `locked_until`: the lease of the worker that claimed it.
ALTER TABLE outbound_emails ADD COLUMN next_attempt_at TIMESTAMPTZ;
ALTER TABLE outbound_emails ADD COLUMN locked_until TIMESTAMPTZ;

CREATE INDEX outbound_emails_due_idx ON outbound_emails (transport, next_attempt_at)
    WHERE status = 'queued' AND next_attempt_at IS NOT NULL;

-- Emails a host was holding for an open circuit before this change are due at once (those
-- older than the 24 h limit are then recorded as failed rather than left queued forever).
-- Row-level security applies to the owner too: this statement serves every tenant.
SELECT set_config('caravan.scope', 'platform', true);
UPDATE outbound_emails SET next_attempt_at = created_at
    WHERE status = 'queued' AND transport <> 'outbox';
