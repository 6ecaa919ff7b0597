using ChatStreaming.Contracts;
using Dapper;
using Npgsql;

namespace ChatStreaming.Persistence;

public sealed partial class ChatStore
{
    // One statement, atomic: locks the conversation only if the caller owns it, refuses when two more messages would
    // pass @MaxMessages (unless a lost reply's attempt saved these very ids: the insert then meets them; a repeated
    // client key is looked up after a refusal, NoRoomAsync),
    // inserts the user message after the active branch's leaf unless its client key was seen (ON CONFLICT), inserts the
    // answer's placeholder only when the user message was inserted, and makes that answer the leaf. The lock orders
    // concurrent sends into one line, and FOR UPDATE reads the row as the send before left it (its message_count).
    private const string AddExchangeSql = """
        WITH conv AS (
            SELECT id, active_leaf_id, message_count FROM conversations
            WHERE id = @ConversationId AND owner_id = @OwnerId
            FOR UPDATE
        ), no_room AS (
            SELECT 1 FROM conv WHERE conv.message_count + 2 > @MaxMessages
              AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = conv.id AND m.id = @UserMessageId)
        ), u AS (
            INSERT INTO messages (id, conversation_id, role, content, status, client_message_id, created_at, completed_at, parent_id)
            SELECT @UserMessageId, conv.id, 'user', @Content, 'completed', @ClientMessageId, @Now, @Now, conv.active_leaf_id FROM conv
            WHERE NOT EXISTS (SELECT 1 FROM no_room)
            ON CONFLICT (conversation_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING
            RETURNING id, parent_id
        ), a AS (
            INSERT INTO messages (id, conversation_id, role, content, status, reply_to_id, parent_id, created_at)
            SELECT @AssistantMessageId, @ConversationId, 'assistant', '', 'streaming', u.id, u.id, @Now FROM u
            RETURNING id
        ), touched AS (
            UPDATE conversations SET updated_at = @Now, active_leaf_id = COALESCE((SELECT id FROM a), active_leaf_id),
                message_count = message_count + 2 * (SELECT count(*) FROM a)
            WHERE id = (SELECT id FROM conv) AND NOT EXISTS (SELECT 1 FROM no_room)
        )
        SELECT EXISTS (SELECT 1 FROM conv) AS ConversationFound, EXISTS (SELECT 1 FROM no_room) AS NoRoom, EXISTS (SELECT 1 FROM a) AS Inserted,
               (SELECT parent_id FROM u) AS ParentId,
               ARRAY(SELECT s.id FROM messages s, conv
                     WHERE s.conversation_id = conv.id
                       AND (s.parent_id = conv.active_leaf_id OR (s.parent_id IS NULL AND conv.active_leaf_id IS NULL))
                     ORDER BY s.position) AS EarlierSiblings
        """;

    /// <summary>
    /// Saves a user message and the placeholder of its answer (status streaming), or returns the first call's pair when
    /// <paramref name="clientMessageId"/> was already used in the conversation. Saves nothing when the conversation is not
    /// the owner's, or when it would then hold more than <paramref name="maxMessages"/>.
    /// </summary>
    public async Task<ExchangeSave> AddExchangeAsync(
        string ownerId, Guid conversationId, string content, string? clientMessageId, int maxMessages, CancellationToken cancellationToken)
    {
        var now = Now();
        var userMessageId = Guid.CreateVersion7(now);
        var assistantMessageId = Guid.CreateVersion7(now);
        var parameters = new
        {
            ConversationId = conversationId,
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
                bool found, noRoom, inserted;
                Guid? parentId;
                Guid[] earlierSiblings;
                try
                {
                    (found, noRoom, inserted, parentId, earlierSiblings) = await connection.QuerySingleAsync<(bool, bool, bool, Guid?, Guid[])>(
                        new CommandDefinition(AddExchangeSql, parameters, cancellationToken: ct));
                }
                catch (PostgresException e) when (attempt > 0 && e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName == "messages_pkey")
                {
                    // The attempt whose reply was lost did insert these very ids: read them back.
                    return await QueryPairAsync(connection, userMessageId, assistantMessageId, ct) with { IsNew = true };
                }

                if (!found)
                {
                    return ExchangeSave.NotFound;
                }

                if (noRoom)
                {
                    return await NoRoomAsync(connection, ownerId, conversationId, clientMessageId, ct);
                }

                if (inserted)
                {
                    var user = new Message(userMessageId, conversationId, MessageRole.User, content, MessageStatus.Completed, now, now, null,
                        ParentId: parentId, SiblingIds: [.. earlierSiblings, userMessageId]);
                    return new Exchange(user, Placeholder(assistantMessageId, user, []), IsNew: true);
                }

                return await RepeatedAsync(connection, ownerId, conversationId, clientMessageId!, userMessageId, ct);
            },
            cancellationToken);
    }

    /// <summary>
    /// A full conversation refuses a new exchange, not a repeat: a twin with the same client key that committed while this
    /// statement waited for the conversation's lock (after its snapshot, so its check did not see it) is the repeat's answer.
    /// </summary>
    private static async Task<ExchangeSave> NoRoomAsync(
        NpgsqlConnection connection, string ownerId, Guid conversationId, string? clientMessageId, CancellationToken cancellationToken) =>
        clientMessageId is not null && await QueryExchangeAsync(connection, ownerId, conversationId, clientMessageId, cancellationToken) is { } twin
            ? twin
            : ExchangeSave.Full;

    // The exchange a send (key on the user message: its first answer), an edit (the same) or a regenerate (key on the
    // answer: its question) with this client key saved in the owner's conversation.
    private const string FindExchangeSql = $"""
        WITH k AS (
            SELECT m.id, m.role, m.reply_to_id FROM messages m
            WHERE m.conversation_id = @ConversationId AND m.client_message_id = @ClientMessageId
              AND EXISTS (SELECT 1 FROM conversations WHERE id = @ConversationId AND owner_id = @OwnerId)
        )
        SELECT {MessageColumns} FROM messages m
        WHERE m.id IN (
            SELECT id FROM k
            UNION ALL SELECT reply_to_id FROM k WHERE role = 'assistant'
            UNION ALL (SELECT a.id FROM messages a JOIN k ON a.reply_to_id = k.id WHERE k.role = 'user' ORDER BY a.position LIMIT 1))
        ORDER BY m.position
        """;

    /// <summary>
    /// The exchange a send with <paramref name="clientMessageId"/> saved in the owner's conversation, its answer as it is
    /// now (status included); null when there is none (a "retry" the database does not know is a new send).
    /// </summary>
    public Task<Exchange?> FindExchangeAsync(string ownerId, Guid conversationId, string clientMessageId, CancellationToken cancellationToken) =>
        ReadAsync((connection, ct) => QueryExchangeAsync(connection, ownerId, conversationId, clientMessageId, ct), cancellationToken).AsTask();

    private static async Task<Exchange?> QueryExchangeAsync(
        NpgsqlConnection connection, string ownerId, Guid conversationId, string clientMessageId, CancellationToken cancellationToken)
    {
        var pair = (await connection.QueryAsync<MessageRow>(new CommandDefinition(
            FindExchangeSql, new { ConversationId = conversationId, OwnerId = ownerId, ClientMessageId = clientMessageId }, cancellationToken: cancellationToken)))
            .Select(r => r.ToMessage())
            .ToList();
        return pair.SingleOrDefault(m => m.Role == MessageRole.User) is { } user && pair.SingleOrDefault(m => m.Role == MessageRole.Assistant) is { } answer
            ? new Exchange(user, answer, IsNew: false)
            : null;
    }

    // Idempotent: only a message still streaming is written, so a retried or concurrent save is a no-op. An owner's save
    // (@Epoch) is refused once a later ownership took the answer over (TakeOverAsync raised its epoch).
    private const string SaveFinalSql = """
        WITH m AS (
            UPDATE messages
            SET content = @Content, status = @Status, last_sequence = @LastSequence, error = @Error, completed_at = @Now,
                finish_reason = @FinishReason, prompt_tokens = @PromptTokens, completion_tokens = @CompletionTokens,
                usage_estimated = @UsageEstimated, model = @Model, parts = @Parts
            WHERE id = @MessageId AND status = 'streaming' AND (@Epoch::bigint IS NULL OR epoch <= @Epoch::bigint)
            RETURNING conversation_id
        )
        UPDATE conversations SET updated_at = @Now WHERE id IN (SELECT conversation_id FROM m)
        """;

    /// <summary>Saves the final answer once. False when it was already final (saved before): nothing was changed.</summary>
    public async Task<bool> SaveFinalAsync(FinalMessage message, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            SaveFinalSql,
            new
            {
                message.MessageId,
                Content = StoredText.Encode(message.Content),
                Status = message.Status.ToWireName(),
                message.LastSequence,
                message.Error,
                message.FinishReason,
                PromptTokens = message.Usage?.PromptTokens,
                CompletionTokens = message.Usage?.CompletionTokens,
                UsageEstimated = message.Usage?.Estimated ?? false,
                message.Model,
                Parts = StoredParts.Encode(message.Parts, message.Content),
                Now = Now().UtcDateTime,
                message.Epoch,
            },
            cancellationToken: cancellationToken));
        return changed > 0;
    }

    private const string TakeOverSql = "UPDATE messages SET epoch = @Epoch WHERE id = @MessageId AND status = 'streaming' AND epoch <= @Epoch";

    /// <summary>
    /// Before an instance carries on an answer it took over (epoch <paramref name="epoch"/>, won in Redis): raises the
    /// answer's epoch, so a save by an earlier owner is refused from now on. False when the answer is no longer
    /// streaming (saved final: it is not carried on) or a later ownership holds it; true again for the same epoch.
    /// </summary>
    public async Task<bool> TakeOverAsync(Guid messageId, long epoch, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(TakeOverSql, new { MessageId = messageId, Epoch = epoch }, cancellationToken: cancellationToken)) > 0;
    }

    // One statement for what a generation reads: the conversation's model and system prompt on every row, beside the
    // branch above the given user message (its ancestors), newest first; answers that failed or are still streaming
    // are left out (the model should not build on them), and so is every other branch. A conversation without earlier
    // messages is one row whose Role is null.
    private const string ModelHistorySql = """
        WITH RECURSIVE chain AS (
            SELECT id, parent_id, 1 AS depth FROM messages WHERE id = (SELECT parent_id FROM messages WHERE id = @BeforeMessageId)
            UNION ALL
            SELECT p.id, p.parent_id, c.depth + 1 FROM messages p JOIN chain c ON p.id = c.parent_id
            WHERE c.depth < @Walk
        ),
        history AS (
            SELECT m.role, m.content, m.position FROM messages m JOIN chain c ON c.id = m.id
            WHERE m.status NOT IN ('streaming', 'failed') AND m.content <> ''
            ORDER BY m.position DESC
            LIMIT @Limit
        )
        SELECT c.model AS Model, c.system_prompt AS SystemPrompt, h.role AS Role, h.content AS Content
        FROM conversations c LEFT JOIN history h ON true
        WHERE c.id = @ConversationId
        ORDER BY h.position DESC
        """;

    /// <summary>
    /// What a generation needs from the database, in one statement: up to <paramref name="limit"/> messages of the
    /// branch above <paramref name="beforeMessageId"/> (newest first) and the conversation's model and system prompt.
    /// </summary>
    public async Task<ModelHistory> GetModelHistoryAsync(Guid conversationId, Guid beforeMessageId, int limit, CancellationToken cancellationToken)
    {
        var rows = (await ReadAsync((connection, ct) => connection.QueryAsync<(string? Model, string? SystemPrompt, string? Role, string? Content)>(new CommandDefinition(
            ModelHistorySql,
            // The walk up the branch stops after 2 × limit + 2 messages (failed or empty answers are skipped, not counted).
            new { ConversationId = conversationId, BeforeMessageId = beforeMessageId, Limit = Math.Max(limit, 0), Walk = (2 * Math.Max(limit, 0)) + 2 },
            cancellationToken: ct)), cancellationToken)).ToList();
        var settings = rows.FirstOrDefault();
        return new ModelHistory(
            [.. rows.Where(r => r.Role is not null).Select(r => (MessageStatusNames.ParseRole(r.Role!), StoredText.Decode(r.Content ?? "")))],
            settings.Model,
            settings.SystemPrompt is null ? null : StoredText.Decode(settings.SystemPrompt));
    }

    private const string StaleStreamingSql = """
        SELECT id AS Id, conversation_id AS ConversationId FROM messages
        WHERE status = 'streaming' AND created_at < @Before
        ORDER BY created_at
        LIMIT 100
        """;

    /// <summary>Answers still "streaming" that started before <paramref name="before"/>: candidates for orphan recovery.</summary>
    public async Task<IReadOnlyList<(Guid Id, Guid ConversationId)>> FindStaleStreamingAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        var rows = await ReadAsync((connection, ct) => connection.QueryAsync<(Guid Id, Guid ConversationId)>(new CommandDefinition(
            StaleStreamingSql, new { Before = before.UtcDateTime }, cancellationToken: ct)), cancellationToken);
        return [.. rows];
    }
}
