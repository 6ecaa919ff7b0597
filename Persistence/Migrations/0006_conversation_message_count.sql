-- How many messages (every branch) a conversation holds, kept by the statements that add them, so a send checks
-- Chat:MaxMessagesPerConversation in the same statement that saves it, under the conversation's row lock: sends
-- racing for the last room line up on that lock, and the check costs no statement of its own.
ALTER TABLE conversations
    ADD COLUMN message_count integer NOT NULL DEFAULT 0;

UPDATE conversations c
SET message_count = (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id);
-- During a rolling upgrade, messages that instances of an older version add are not counted: the limit is then
-- lenient by that many messages in those conversations, never stricter.
