-- Measured on a million letters (bench/queues.py, bench/README.md).
-- State in the department index: the department dashboard counts by state and deadline
-- from the index (SQLite 143 ms -> 0.1 ms).
DROP INDEX letters_department;
CREATE INDEX letters_department ON letters (department_id, state, due_at);
-- Search by department, newest first, at any depth (SQLite 183 ms -> 0.1 ms).
CREATE INDEX letters_department_submitted ON letters (department_id, submitted_at);
-- Replies this month counted from the index alone.
DROP INDEX letter_events_kind_time;
CREATE INDEX letter_events_kind_time ON letter_events (kind, created_at, letter_id);
-- The dashboard's oldest unanswered letters (236 ms -> 0.2 ms). SQLite already answers this
-- from letters_submitted; the schema test compares tables and columns, not indexes.
CREATE INDEX letters_unanswered ON letters (submitted_at, id)
    WHERE state IN ('pending', 'assigned', 'returned', 'review');
