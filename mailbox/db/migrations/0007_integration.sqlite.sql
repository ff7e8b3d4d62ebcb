-- Integration (issue 6): API tokens, webhooks, and webhook deliveries through the outbox.

-- A token acts for its user with the user's current roles ('staff'), or may only submit
-- letters ('submit': for a portal or a mini program). Only a SHA-256 hash is stored: tokens
-- are 256 random bits, so a slow hash would add nothing but time to every API request.
CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label         TEXT NOT NULL,
    scope         TEXT NOT NULL CHECK (scope IN ('staff', 'submit')),
    token_hash    TEXT NOT NULL UNIQUE,
    prefix        TEXT NOT NULL,  -- the token's first characters, to tell tokens apart
    created_at    TIMESTAMP NOT NULL,
    created_by_id INTEGER REFERENCES users (id),
    last_used_at  TIMESTAMP,
    revoked_at    TIMESTAMP
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- An address that is sent the events it subscribed to, signed with its own secret (HMAC-SHA256).
CREATE TABLE webhooks (
    id            INTEGER PRIMARY KEY,
    url           TEXT NOT NULL,
    secret        TEXT NOT NULL,  -- kept in clear: signing needs it
    description   TEXT NOT NULL DEFAULT '',
    is_active     BOOLEAN NOT NULL DEFAULT 1,
    created_at    TIMESTAMP NOT NULL,
    created_by_id INTEGER REFERENCES users (id)
);

CREATE TABLE webhook_events (
    webhook_id INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event      TEXT NOT NULL CHECK (event IN
        ('letter.submitted', 'letter.accepted', 'letter.replied', 'letter.rated', 'letter.overdue')),
    PRIMARY KEY (webhook_id, event)
);
CREATE INDEX webhook_events_event ON webhook_events (event, webhook_id);

-- The outbox carries mail and webhook deliveries alike: the same claims, retries and history.
-- A delivery's kind is the event, its recipient the URL, its context the JSON body sent.
ALTER TABLE outbox ADD COLUMN medium TEXT NOT NULL DEFAULT 'mail' CHECK (medium IN ('mail', 'webhook'));
ALTER TABLE outbox ADD COLUMN webhook_id INTEGER REFERENCES webhooks (id) ON DELETE CASCADE;
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (medium, send_after) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_webhook ON outbox (webhook_id, id) WHERE webhook_id IS NOT NULL;
