-- What the model said about its answer: why it stopped, and the tokens it counted.
ALTER TABLE messages
    ADD COLUMN finish_reason     text   NULL,
    ADD COLUMN prompt_tokens     bigint NULL,
    ADD COLUMN completion_tokens bigint NULL;
