-- Indexes measured on a million letters (bench/queues.py): the department inbox and review
-- queue read only open letters, and the dashboard counts replies by kind and time.
CREATE INDEX letters_open_department ON letters (department_id, due_at, id)
    WHERE state IN ('assigned', 'review', 'returned');
CREATE INDEX letter_events_kind_time ON letter_events (kind, created_at);
-- The follow-up list in its own order, so that neither database scans every letter for it.
CREATE INDEX letters_follow_up_order ON letters (submitted_at, id) WHERE needs_follow_up;
