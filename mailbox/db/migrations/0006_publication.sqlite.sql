-- Publication (DESIGN §6): the public copy of a replied letter is a separate, masked text that
-- a dispatcher edits; the original is never shown publicly. One row a letter; `is_published`
-- says whether the public sees it now (unpublishing keeps the edited copy).
CREATE TABLE publications (
    letter_id     INTEGER PRIMARY KEY REFERENCES letters (id),
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    reply         TEXT NOT NULL,
    is_published  BOOLEAN NOT NULL DEFAULT 0,
    published_at  TIMESTAMP,  -- when it was last made public
    updated_at    TIMESTAMP NOT NULL,
    updated_by_id INTEGER REFERENCES users (id)
);
CREATE INDEX publications_public ON publications (published_at) WHERE is_published;

-- Chinese full-text search of the public copies: trigrams find any substring of three or more
-- characters from the index (shorter words are matched by a scan of the published copies).
-- `search_text` is title, body and reply together, kept by the publication service.
CREATE VIRTUAL TABLE publications_search USING fts5 (search_text, tokenize = 'trigram');

-- Words that flag letters and draft replies for attention before publication (never rejects).
CREATE TABLE attention_words (
    id         INTEGER PRIMARY KEY,
    word       TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

-- Retention: when a letter's personal fields were anonymised (the figures do not change).
ALTER TABLE letters ADD COLUMN anonymised_at TIMESTAMP;
-- The purge deletes a letter's mail; without this it reads the whole outbox for each batch.
CREATE INDEX outbox_letter ON outbox (letter_id);
