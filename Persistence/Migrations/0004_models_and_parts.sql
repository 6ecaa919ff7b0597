-- A model per conversation and per answer, and everything an answer streamed besides its text (reasoning, tool calls
-- and results) as a JSON array of { kind, text }; null when the answer is its text alone.
ALTER TABLE conversations
    ADD COLUMN model         text NULL,
    ADD COLUMN system_prompt text NULL;

ALTER TABLE messages
    ADD COLUMN model text NULL,
    ADD COLUMN parts text NULL;
