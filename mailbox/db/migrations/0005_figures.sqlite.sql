-- Facts of a letter's first reply, fixed when it is released, so that the yearly figures
-- (DESIGN §5) are one aggregation over the period's letters: a reopened letter is counted
-- once, by its first reply, against the deadline in force then (after granted extensions),
-- for the department that answered it. published_at is set by publication.
ALTER TABLE letters ADD COLUMN first_replied_at TIMESTAMP;
ALTER TABLE letters ADD COLUMN reply_due_at TIMESTAMP;
ALTER TABLE letters ADD COLUMN reply_department_id INTEGER REFERENCES departments (id);
ALTER TABLE letters ADD COLUMN reply_working_days INTEGER;
ALTER TABLE letters ADD COLUMN published_at TIMESTAMP;

UPDATE letters SET first_replied_at = (
    SELECT MIN(e.created_at) FROM letter_events e
    WHERE e.letter_id = letters.id AND e.kind IN ('approve', 'release')
);
-- Letters replied before this migration: the deadline and department they have now (the
-- working days are left empty: the calendar is code, not SQL).
UPDATE letters SET reply_due_at = due_at, reply_department_id = department_id
WHERE first_replied_at IS NOT NULL;

-- Texts the office edits, by key and language: the report's summary sentence.
CREATE TABLE site_texts (
    key        TEXT NOT NULL,
    locale     TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (key, locale)
);

-- What the figures count of each letter, in submission order: a year's aggregation reads
-- this index alone, never the letters' texts (bench/figures.py, a million letters over three
-- years: the year's report 1.39 → 1.21 s, and less exposed to a busy page cache).
CREATE INDEX letters_figures ON letters (
    submitted_at, state, channel, department_id, accepted_at, closed_at, first_replied_at,
    reply_due_at, due_at, reply_department_id, reply_working_days, published_at
);
