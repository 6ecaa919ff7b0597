-- Branches: every message has a parent (null for a conversation's first), so a regenerated answer or an edited
-- question is a sibling of the one it replaces; the conversation remembers the leaf of its active branch.
ALTER TABLE messages ADD COLUMN parent_id uuid NULL REFERENCES messages (id) ON DELETE CASCADE;

-- Until now a conversation was one line: an answer's parent is its question, a question's parent the message before it.
UPDATE messages SET parent_id = reply_to_id WHERE role = 'assistant';
UPDATE messages m SET parent_id = p.previous
FROM (SELECT id, lag(id) OVER (PARTITION BY conversation_id ORDER BY position) AS previous FROM messages) p
WHERE m.id = p.id AND m.role = 'user';

CREATE INDEX ix_messages_parent ON messages (parent_id, position);

-- No foreign key: the leaf is deleted with its conversation, and a key would make that delete order matter.
ALTER TABLE conversations ADD COLUMN active_leaf_id uuid NULL;
UPDATE conversations c SET active_leaf_id = (
    SELECT m.id FROM messages m WHERE m.conversation_id = c.id ORDER BY m.position DESC LIMIT 1);

-- Conversation list paging (newest first, ties by id).
CREATE INDEX ix_conversations_owner_updated_id ON conversations (owner_id, updated_at DESC, id DESC);
DROP INDEX ix_conversations_owner_updated;

-- Full-text search of the saved text (English stemming; the 'english' configuration still finds words of other
-- languages, unstemmed). Filled when a message is saved final: answers still streaming have no text here yet.
ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, content)) STORED;
CREATE INDEX ix_messages_search ON messages USING GIN (search);
