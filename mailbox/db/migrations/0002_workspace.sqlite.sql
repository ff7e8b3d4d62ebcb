-- The staff workspace: the calendar overlay, reject reasons, reply templates, notes,
-- extensions, ratings, reply drafts and the reminders already sent.

CREATE TABLE holidays (
    day  DATE PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name TEXT NOT NULL DEFAULT ''
);

CREATE TABLE reject_reasons (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    label      TEXT NOT NULL,
    label_en   TEXT NOT NULL,
    advice     TEXT NOT NULL DEFAULT '',  -- where the writer should turn instead
    advice_en  TEXT NOT NULL DEFAULT '',
    enabled    BOOLEAN NOT NULL DEFAULT 1,
    sort_order INTEGER NOT NULL DEFAULT 0
);

INSERT INTO reject_reasons (code, label, label_en, advice, advice_en, sort_order) VALUES
    ('not_ours', '不属于本部门职责', 'Not within this department''s remit',
     '请向有关主管部门反映，或拨打12345政务服务便民热线咨询。',
     'Please contact the competent authority, or call the 12345 government service hotline.', 1),
    ('duplicate', '重复来信', 'A repeat of an earlier letter',
     '您此前的来信正在办理中，请凭原信件编号查询。',
     'Your earlier letter is being handled; please check it with its tracking number.', 2),
    ('in_litigation', '涉诉涉法', 'Before a court or in legal proceedings',
     '请通过诉讼、仲裁或行政复议等法定途径解决。',
     'Please use the legal channels: court, arbitration or administrative review.', 3),
    ('unclear', '内容不清', 'The letter is unclear',
     '请补充事情经过、时间、地点和诉求后重新来信。',
     'Please write again with what happened, when, where and what you ask for.', 4),
    ('abusive', '辱骂/违法内容', 'Insults or unlawful content', '', '', 5),
    ('petition', '应通过网上信访渠道反映', 'Belongs to the online petition channel',
     '请通过国家信访局网上信访平台或当地信访部门反映。',
     'Please use the national online petition platform or the local petition office.', 6);

CREATE TABLE reply_templates (
    id            INTEGER PRIMARY KEY,
    channel       TEXT REFERENCES channels (code),  -- NULL: any channel
    department_id INTEGER REFERENCES departments (id),  -- NULL: any department
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);

CREATE TABLE internal_notes (
    id             INTEGER PRIMARY KEY,
    letter_id      INTEGER NOT NULL REFERENCES letters (id),
    author_user_id INTEGER NOT NULL REFERENCES users (id),
    body           TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX internal_notes_letter ON internal_notes (letter_id, id);

CREATE TABLE extension_requests (
    id              INTEGER PRIMARY KEY,
    letter_id       INTEGER NOT NULL REFERENCES letters (id),
    requested_by_id INTEGER NOT NULL REFERENCES users (id),
    working_days    INTEGER NOT NULL CHECK (working_days BETWEEN 1 AND 60),
    reason          TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'granted', 'refused')),
    decided_by_id   INTEGER REFERENCES users (id),
    decided_at      TIMESTAMP,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX extension_requests_pending ON extension_requests (state, letter_id);

-- One rating per released reply; a reopened letter answered again can be rated again.
CREATE TABLE ratings (
    id         INTEGER PRIMARY KEY,
    letter_id  INTEGER NOT NULL REFERENCES letters (id),
    reply_id   INTEGER NOT NULL UNIQUE REFERENCES replies (id),
    rating     TEXT NOT NULL CHECK (rating IN ('satisfied', 'basically_satisfied', 'unsatisfied')),
    comment    TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ratings_letter ON ratings (letter_id);

-- Reminders and escalations already sent: the daily job is safe to run twice.
CREATE TABLE reminders (
    letter_id INTEGER NOT NULL REFERENCES letters (id),
    kind      TEXT NOT NULL CHECK (kind IN ('due_soon', 'overdue')),
    step_day  DATE NOT NULL,
    sent_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (letter_id, kind, step_day)
);

ALTER TABLE replies ADD COLUMN submitted_at TIMESTAMP;  -- sent for review
ALTER TABLE replies ADD COLUMN released_by_id INTEGER REFERENCES users (id);
-- The dispatcher still has to act on an unsatisfied rating (reopen or close with a note).
ALTER TABLE letters ADD COLUMN needs_follow_up BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE letters ADD COLUMN rating_until TIMESTAMP;  -- end of the rating window
CREATE INDEX letters_follow_up ON letters (needs_follow_up) WHERE needs_follow_up;
CREATE INDEX letters_due ON letters (due_at) WHERE state IN ('assigned', 'review');
ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';  -- for assignment and reminder mail

-- Solved anti-spam challenges, each accepted once until it expires.
CREATE TABLE spent_challenges (
    signature  TEXT PRIMARY KEY,
    expires_at TIMESTAMP NOT NULL
);
