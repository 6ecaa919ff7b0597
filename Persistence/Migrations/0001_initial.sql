-- Conversations and their finished messages. Chunks never reach this database: they live in Redis.
CREATE TABLE conversations (
    id          uuid PRIMARY KEY,
    owner_id    text        NOT NULL,
    title       text        NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX ix_conversations_owner_updated ON conversations (owner_id, updated_at DESC);

CREATE TABLE messages (
    id                uuid PRIMARY KEY,
    -- insertion order: a user message and its answer are inserted in one statement with one timestamp
    position          bigint GENERATED ALWAYS AS IDENTITY,
    conversation_id   uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role              text        NOT NULL CHECK (role IN ('user', 'assistant')),
    content           text        NOT NULL,
    status            text        NOT NULL CHECK (status IN ('streaming', 'completed', 'cancelled', 'failed', 'interrupted')),
    reply_to_id       uuid        NULL REFERENCES messages (id),
    client_message_id text        NULL,
    last_sequence     bigint      NULL,
    error             text        NULL,
    created_at        timestamptz NOT NULL,
    completed_at      timestamptz NULL
);
CREATE INDEX ix_messages_conversation_position ON messages (conversation_id, position);
-- SendMessage idempotency: one user message per client key and conversation
CREATE UNIQUE INDEX ux_messages_client_message_id ON messages (conversation_id, client_message_id)
    WHERE client_message_id IS NOT NULL;
-- finds answers left "streaming" by a dead instance
CREATE INDEX ix_messages_streaming ON messages (created_at) WHERE status = 'streaming';
