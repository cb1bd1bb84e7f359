-- The id a transport gives an accepted email (SendGrid's X-Message-Id, an SMTP server's queue
-- id), so that delivery events and server logs can be matched to the outbox row.
ALTER TABLE outbound_emails ADD COLUMN provider_message_id TEXT;
