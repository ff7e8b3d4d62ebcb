-- Attachments (issue 8): the writer's evidence and the office's reply documents.
-- The bytes live in files under the data folder (attachments/), named by stored_name, which
-- is random and never taken from a request. A row is written only after its file is on disk,
-- in the same transaction as the letter or the draft, so no row ever lacks its file; a file
-- whose transaction failed is swept as an orphan.
CREATE TABLE attachments (
    id              INTEGER PRIMARY KEY,
    letter_id       INTEGER NOT NULL REFERENCES letters (id),
    reply_id        INTEGER REFERENCES replies (id),  -- NULL: sent by the writer
    stored_name     TEXT NOT NULL UNIQUE,
    filename        TEXT NOT NULL,  -- the name shown and downloaded, made safe
    content_type    TEXT NOT NULL,  -- from the content, never from the upload's claim
    size            INTEGER NOT NULL,
    sha256          TEXT NOT NULL,
    uploaded_by_id  INTEGER REFERENCES users (id),
    created_at      TIMESTAMP NOT NULL,
    published_at    TIMESTAMP,  -- only by a dispatcher's explicit choice, one by one
    published_by_id INTEGER REFERENCES users (id)
);
CREATE INDEX attachments_letter ON attachments (letter_id, id);
