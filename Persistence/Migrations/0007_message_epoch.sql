-- Which ownership of an answer may save it (fencing in Postgres, beside the epoch in its Redis state): 1 for the
-- instance that started it, raised by each instance that takes it over before it carries the answer on. An owner's
-- save is refused once a later ownership raised it, even when that owner cannot reach Redis to learn it was fenced
-- (a partition): only the current owner, or a sweep, ends the answer.
ALTER TABLE messages
    ADD COLUMN epoch bigint NOT NULL DEFAULT 1;
-- During a rolling upgrade an older instance neither raises nor checks it: its saves are fenced as they were before
-- (by the status and Redis alone).
