-- The foundation: channels, departments, staff, sessions, letters and their events, the
-- mail outbox, rate-limit counters and the audit log. Later migrations add holidays,
-- reject reasons, reply templates, keywords and tokens.

CREATE TABLE channels (
    code            TEXT PRIMARY KEY CHECK (code IN ('director', 'consult', 'complaint', 'suggestion')),
    name            TEXT NOT NULL,
    name_en         TEXT NOT NULL,
    reply_days      INTEGER NOT NULL CHECK (reply_days BETWEEN 1 AND 60),
    intake_days     INTEGER NOT NULL DEFAULT 2 CHECK (intake_days BETWEEN 1 AND 30),
    review_required BOOLEAN NOT NULL DEFAULT 1,
    enabled         BOOLEAN NOT NULL DEFAULT 1,
    sort_order      INTEGER NOT NULL
);

INSERT INTO channels (code, name, name_en, reply_days, sort_order) VALUES
    ('director', '厅长信箱', 'Director''s Mailbox', 10, 1),
    ('consult', '网上咨询', 'Online Consultation', 5, 2),
    ('complaint', '在线投诉', 'Online Complaints', 10, 3),
    ('suggestion', '意见建议', 'Suggestions', 10, 4);

CREATE TABLE departments (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    enabled    BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    department_id INTEGER REFERENCES departments (id),
    is_active     BOOLEAN NOT NULL DEFAULT 1,
    created_at    TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP
);

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL CHECK (role IN ('admin', 'dispatcher', 'handler', 'reviewer', 'reporter')),
    PRIMARY KEY (user_id, role)
);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,  -- SHA-256 of the cookie's token; the token itself is never stored
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    client_ip    TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE setup_tokens (
    token_hash TEXT PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);

CREATE TABLE letters (
    id              INTEGER PRIMARY KEY,
    tracking_no     TEXT NOT NULL UNIQUE,
    query_code_hash TEXT NOT NULL,
    channel         TEXT NOT NULL REFERENCES channels (code),
    state           TEXT NOT NULL CHECK (state IN
                        ('pending', 'rejected', 'spam', 'duplicate', 'assigned', 'returned',
                         'review', 'replied', 'closed')),
    source          TEXT NOT NULL CHECK (source IN
                        ('web', 'post', 'phone', 'visit', 'api', 'open311', 'import')),
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    writer_name     TEXT NOT NULL DEFAULT '',
    writer_phone    TEXT NOT NULL DEFAULT '',
    writer_email    TEXT NOT NULL DEFAULT '',
    writer_address  TEXT NOT NULL DEFAULT '',
    publish_consent BOOLEAN NOT NULL DEFAULT 0,
    locale          TEXT NOT NULL DEFAULT 'zh_CN',
    challenge       TEXT NOT NULL DEFAULT 'off' CHECK (challenge IN ('pow', 'fallback', 'off', 'staff')),
    client_ip       TEXT NOT NULL DEFAULT '',
    department_id   INTEGER REFERENCES departments (id),
    duplicate_of_id INTEGER REFERENCES letters (id),
    submitted_at    TIMESTAMP NOT NULL,
    accepted_at     TIMESTAMP,
    due_at          TIMESTAMP,
    replied_at      TIMESTAMP,
    closed_at       TIMESTAMP,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX letters_state ON letters (state, submitted_at);
CREATE INDEX letters_submitted ON letters (submitted_at);
CREATE INDEX letters_department ON letters (department_id, due_at);

CREATE TABLE letter_events (
    id            INTEGER PRIMARY KEY,
    letter_id     INTEGER NOT NULL REFERENCES letters (id),
    kind          TEXT NOT NULL,
    from_state    TEXT,
    to_state      TEXT NOT NULL,
    actor_user_id INTEGER REFERENCES users (id),
    is_public     BOOLEAN NOT NULL DEFAULT 1,
    note          TEXT NOT NULL DEFAULT '',
    data          TEXT NOT NULL DEFAULT '{}',
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX letter_events_letter ON letter_events (letter_id, id);

-- Released replies are frozen; a correction is a new row (and a new event).
CREATE TABLE replies (
    id             INTEGER PRIMARY KEY,
    letter_id      INTEGER NOT NULL REFERENCES letters (id),
    body           TEXT NOT NULL,
    author_user_id INTEGER REFERENCES users (id),
    created_at     TIMESTAMP NOT NULL,
    released_at    TIMESTAMP
);
CREATE INDEX replies_letter ON replies (letter_id, id);

CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    letter_id     INTEGER REFERENCES letters (id),
    kind          TEXT NOT NULL,  -- the mail template: templates/email/{kind}.txt and .html
    recipient     TEXT NOT NULL,
    locale        TEXT NOT NULL,
    context       TEXT NOT NULL,  -- JSON for the template; emptied once sent (it may hold a query code)
    created_at    TIMESTAMP NOT NULL,
    send_after    TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP,
    claim_token   TEXT NOT NULL DEFAULT '',  -- which worker holds the claim
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT NOT NULL DEFAULT '',
    sent_at       TIMESTAMP,
    failed_at     TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (send_after) WHERE sent_at IS NULL AND failed_at IS NULL;

CREATE TABLE rate_limits (
    bucket       TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    hits         INTEGER NOT NULL,
    PRIMARY KEY (bucket, window_start)
);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    actor_user_id INTEGER REFERENCES users (id),
    action        TEXT NOT NULL,
    target        TEXT NOT NULL DEFAULT '',
    data          TEXT NOT NULL DEFAULT '{}',
    client_ip     TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL
);
