using ChatStreaming.Contracts;
using Dapper;
using Npgsql;

namespace ChatStreaming.Persistence;

/// <summary>
/// Branches: a regenerated answer is a new child of the same question, an edited question a new child of the same
/// parent; both become the active branch. Nothing is ever overwritten: the earlier branch stays, one SelectBranch away.
/// Each is one statement (with its answer's placeholder), like a send.
/// </summary>
public sealed partial class ChatStore
{
    // The edited message must be a user message of the owner's. The new one takes its parent (and the conversation's
    // lock, so concurrent sends line up); its answer becomes the leaf. Room is checked as a send checks it (AddExchangeSql).
    private const string AddEditSql = """
        WITH target AS (
            SELECT m.conversation_id, m.parent_id, c.message_count FROM messages m JOIN conversations c ON c.id = m.conversation_id
            WHERE m.id = @EditedMessageId AND m.role = 'user' AND c.owner_id = @OwnerId
            FOR UPDATE OF c
        ), no_room AS (
            SELECT 1 FROM target t WHERE t.message_count + 2 > @MaxMessages
              AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = t.conversation_id AND m.id = @UserMessageId)
        ), u AS (
            INSERT INTO messages (id, conversation_id, role, content, status, client_message_id, created_at, completed_at, parent_id)
            SELECT @UserMessageId, t.conversation_id, 'user', @Content, 'completed', @ClientMessageId, @Now, @Now, t.parent_id FROM target t
            WHERE NOT EXISTS (SELECT 1 FROM no_room)
            ON CONFLICT (conversation_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING
            RETURNING id, conversation_id
        ), a AS (
            INSERT INTO messages (id, conversation_id, role, content, status, reply_to_id, parent_id, created_at)
            SELECT @AssistantMessageId, u.conversation_id, 'assistant', '', 'streaming', u.id, u.id, @Now FROM u
            RETURNING id
        ), touched AS (
            UPDATE conversations SET updated_at = @Now, active_leaf_id = COALESCE((SELECT id FROM a), active_leaf_id),
                message_count = message_count + 2 * (SELECT count(*) FROM a)
            WHERE id = (SELECT conversation_id FROM target) AND NOT EXISTS (SELECT 1 FROM no_room)
        )
        SELECT (SELECT conversation_id FROM target) AS ConversationId, EXISTS (SELECT 1 FROM no_room) AS NoRoom, EXISTS (SELECT 1 FROM a) AS Inserted,
               (SELECT parent_id FROM target) AS ParentId,
               ARRAY(SELECT s.id FROM messages s, target t
                     WHERE s.conversation_id = t.conversation_id
                       AND (s.parent_id = t.parent_id OR (s.parent_id IS NULL AND t.parent_id IS NULL))
                     ORDER BY s.position) AS EarlierSiblings
        """;

    /// <summary>
    /// Saves <paramref name="content"/> as a new version of the user message <paramref name="editedMessageId"/> (same
    /// parent) with its answer's placeholder, and makes it the active branch; the first call's pair when
    /// <paramref name="clientMessageId"/> was used in the conversation before. Saves nothing when it is not the owner's user
    /// message, or when the conversation would then hold more than <paramref name="maxMessages"/>.
    /// </summary>
    public async Task<ExchangeSave> AddEditAsync(
        string ownerId, Guid editedMessageId, string content, string? clientMessageId, int maxMessages, CancellationToken cancellationToken)
    {
        var now = Now();
        var (userMessageId, assistantMessageId) = (Guid.CreateVersion7(now), Guid.CreateVersion7(now));
        var parameters = new
        {
            EditedMessageId = editedMessageId,
            OwnerId = ownerId,
            UserMessageId = userMessageId,
            AssistantMessageId = assistantMessageId,
            Content = StoredText.Encode(content),
            ClientMessageId = clientMessageId,
            Now = now.UtcDateTime,
            MaxMessages = maxMessages,
        };
        return await RunAsync<ExchangeSave>(
            async (connection, attempt, ct) =>
            {
                (Guid? ConversationId, bool NoRoom, bool Inserted, Guid? ParentId, Guid[] EarlierSiblings) saved;
                try
                {
                    saved = await connection.QuerySingleAsync<(Guid?, bool, bool, Guid?, Guid[])>(new CommandDefinition(AddEditSql, parameters, cancellationToken: ct));
                }
                catch (PostgresException e) when (attempt > 0 && e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName == "messages_pkey")
                {
                    return await QueryPairAsync(connection, userMessageId, assistantMessageId, ct) with { IsNew = true };
                }

                if (saved.ConversationId is not { } conversationId)
                {
                    return ExchangeSave.NotFound;
                }

                if (saved.NoRoom)
                {
                    return await NoRoomAsync(connection, ownerId, conversationId, clientMessageId, ct);
                }

                if (saved.Inserted)
                {
                    var user = new Message(userMessageId, conversationId, MessageRole.User, content, MessageStatus.Completed, now, now, null,
                        ParentId: saved.ParentId, SiblingIds: [.. saved.EarlierSiblings, userMessageId]);
                    return new Exchange(user, Placeholder(assistantMessageId, user, []), IsNew: true);
                }

                return await RepeatedAsync(connection, ownerId, conversationId, clientMessageId!, userMessageId, ct);
            },
            cancellationToken);
    }

    // The regenerated message must be an answer of the owner's; the new answer replies to the same question. Room (for
    // the one new message) is checked as a send checks it (AddExchangeSql).
    private const string AddRegenerationSql = """
        WITH target AS (
            SELECT m.conversation_id, m.parent_id, c.message_count FROM messages m JOIN conversations c ON c.id = m.conversation_id
            WHERE m.id = @AnswerId AND m.role = 'assistant' AND c.owner_id = @OwnerId
            FOR UPDATE OF c
        ), no_room AS (
            SELECT 1 FROM target t WHERE t.message_count + 1 > @MaxMessages
              AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = t.conversation_id AND m.id = @AssistantMessageId)
        ), a AS (
            INSERT INTO messages (id, conversation_id, role, content, status, reply_to_id, parent_id, client_message_id, created_at)
            SELECT @AssistantMessageId, t.conversation_id, 'assistant', '', 'streaming', t.parent_id, t.parent_id, @ClientMessageId, @Now
            FROM target t
            WHERE NOT EXISTS (SELECT 1 FROM no_room)
            ON CONFLICT (conversation_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING
            RETURNING id
        ), touched AS (
            UPDATE conversations SET updated_at = @Now, active_leaf_id = COALESCE((SELECT id FROM a), active_leaf_id),
                message_count = message_count + (SELECT count(*) FROM a)
            WHERE id = (SELECT conversation_id FROM target) AND NOT EXISTS (SELECT 1 FROM no_room)
        )
        SELECT (SELECT conversation_id FROM target) AS ConversationId, EXISTS (SELECT 1 FROM no_room) AS NoRoom, EXISTS (SELECT 1 FROM a) AS Inserted,
               (SELECT parent_id FROM target) AS QuestionId,
               ARRAY(SELECT s.id FROM messages s, target t WHERE s.parent_id = t.parent_id ORDER BY s.position) AS EarlierSiblings
        """;

    /// <summary>
    /// Saves the placeholder of a new answer to the question <paramref name="answerId"/> answered, and makes it the
    /// active branch; the first call's pair when <paramref name="clientMessageId"/> was used in the conversation
    /// before. Saves nothing when <paramref name="answerId"/> is not the owner's answer, or when the conversation would then
    /// hold more than <paramref name="maxMessages"/>.
    /// </summary>
    public async Task<ExchangeSave> AddRegenerationAsync(string ownerId, Guid answerId, string? clientMessageId, int maxMessages, CancellationToken cancellationToken)
    {
        var now = Now();
        var assistantMessageId = Guid.CreateVersion7(now);
        var parameters = new
        {
            AnswerId = answerId, OwnerId = ownerId, AssistantMessageId = assistantMessageId, ClientMessageId = clientMessageId, Now = now.UtcDateTime,
            MaxMessages = maxMessages,
        };
        return await RunAsync<ExchangeSave>(
            async (connection, attempt, ct) =>
            {
                (Guid? ConversationId, bool NoRoom, bool Inserted, Guid? QuestionId, Guid[] EarlierSiblings) saved;
                try
                {
                    saved = await connection.QuerySingleAsync<(Guid?, bool, bool, Guid?, Guid[])>(new CommandDefinition(AddRegenerationSql, parameters, cancellationToken: ct));
                }
                catch (PostgresException e) when (attempt > 0 && e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName == "messages_pkey")
                {
                    // The attempt whose reply was lost inserted it: read it back.
                    var answer = await QueryMessageAsync(connection, assistantMessageId, ct) ?? throw new InvalidOperationException($"message {assistantMessageId} is not there");
                    return new Exchange(await QuestionAsync(connection, answer.ParentId, ct), answer, IsNew: true);
                }

                if (saved.Inserted)
                {
                    var question = await QuestionAsync(connection, saved.QuestionId, ct);
                    return new Exchange(question, Placeholder(assistantMessageId, question, [.. saved.EarlierSiblings.Where(id => id != assistantMessageId)]), IsNew: true);
                }

                if (saved.ConversationId is not { } conversationId)
                {
                    return ExchangeSave.NotFound;
                }

                return saved.NoRoom
                    ? await NoRoomAsync(connection, ownerId, conversationId, clientMessageId, ct)
                    : await RepeatedAsync(connection, ownerId, conversationId, clientMessageId!, assistantMessageId, ct);
            },
            cancellationToken);
    }

    // From the message down, the newest child each time: the leaf of the newest path through it.
    private const string SelectBranchSql = """
        WITH RECURSIVE start AS (
            SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id
            WHERE m.id = @MessageId AND m.conversation_id = @ConversationId AND c.owner_id = @OwnerId
        ), down AS (
            SELECT id, 0 AS depth FROM start
            UNION ALL
            SELECT n.id, d.depth + 1 FROM down d
            CROSS JOIN LATERAL (SELECT c.id FROM messages c WHERE c.parent_id = d.id ORDER BY c.position DESC LIMIT 1) n
        )
        UPDATE conversations SET active_leaf_id = (SELECT id FROM down ORDER BY depth DESC LIMIT 1)
        WHERE id = @ConversationId AND owner_id = @OwnerId AND EXISTS (SELECT 1 FROM start)
        """;

    /// <summary>Makes the newest path through the message the active branch. False when it is not in the owner's conversation.</summary>
    public async Task<bool> SelectBranchAsync(string ownerId, Guid conversationId, Guid messageId, CancellationToken cancellationToken) =>
        await RunAsync((connection, _, ct) => connection.ExecuteAsync(new CommandDefinition(
            SelectBranchSql, new { OwnerId = ownerId, ConversationId = conversationId, MessageId = messageId }, cancellationToken: ct)), cancellationToken) > 0;

    /// <summary>A new answer's placeholder (streaming, empty) under <paramref name="question"/>.</summary>
    private static Message Placeholder(Guid id, Message question, Guid[] earlierSiblings) =>
        new(id, question.ConversationId, MessageRole.Assistant, "", MessageStatus.Streaming, question.CreatedAt, null, 0,
            ParentId: question.Id, SiblingIds: [.. earlierSiblings, id]);

    /// <summary>A repeated client key: the first call's pair (ours when the attempt whose reply was lost saved it).</summary>
    private static async Task<Exchange> RepeatedAsync(
        NpgsqlConnection connection, string ownerId, Guid conversationId, string clientMessageId, Guid ourId, CancellationToken cancellationToken)
    {
        var saved = await QueryExchangeAsync(connection, ownerId, conversationId, clientMessageId, cancellationToken)
            ?? throw new InvalidOperationException($"client message id {clientMessageId} conflicted but its exchange is not there");
        return saved with { IsNew = saved.UserMessage.Id == ourId || saved.AssistantMessage.Id == ourId };
    }

    private static async Task<Exchange> QueryPairAsync(NpgsqlConnection connection, Guid userMessageId, Guid assistantMessageId, CancellationToken cancellationToken) =>
        new(await QueryMessageAsync(connection, userMessageId, cancellationToken) ?? throw new InvalidOperationException($"message {userMessageId} is not there"),
            await QueryMessageAsync(connection, assistantMessageId, cancellationToken) ?? throw new InvalidOperationException($"message {assistantMessageId} is not there"),
            IsNew: false);

    /// <summary>The question a regenerated answer replies to (every answer has one).</summary>
    private static async Task<Message> QuestionAsync(NpgsqlConnection connection, Guid? questionId, CancellationToken cancellationToken) =>
        questionId is { } id && await QueryMessageAsync(connection, id, cancellationToken) is { } question
            ? question
            : throw new InvalidOperationException($"the question {questionId} of a regenerated answer is not there");

    private static async Task<Message?> QueryMessageAsync(NpgsqlConnection connection, Guid messageId, CancellationToken cancellationToken) =>
        (await connection.QuerySingleOrDefaultAsync<MessageRow>(new CommandDefinition(GetMessageSql, new { Id = messageId }, cancellationToken: cancellationToken)))?.ToMessage();
}
