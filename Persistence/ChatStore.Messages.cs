using ChatStreaming.Contracts;
using Dapper;
using Npgsql;

namespace ChatStreaming.Persistence;

public sealed partial class ChatStore
{
    // One statement, atomic: touches the conversation only if the caller owns it, inserts the user message unless its
    // client key was seen (ON CONFLICT), and inserts the answer's placeholder only when the user message was inserted.
    private const string AddExchangeSql = """
        WITH conv AS (
            UPDATE conversations SET updated_at = @Now
            WHERE id = @ConversationId AND owner_id = @OwnerId
            RETURNING id
        ), u AS (
            INSERT INTO messages (id, conversation_id, role, content, status, client_message_id, created_at, completed_at)
            SELECT @UserMessageId, conv.id, 'user', @Content, 'completed', @ClientMessageId, @Now, @Now FROM conv
            ON CONFLICT (conversation_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING
            RETURNING id
        ), a AS (
            INSERT INTO messages (id, conversation_id, role, content, status, reply_to_id, created_at)
            SELECT @AssistantMessageId, @ConversationId, 'assistant', '', 'streaming', u.id, @Now FROM u
            RETURNING id
        )
        SELECT EXISTS (SELECT 1 FROM conv) AS ConversationFound, EXISTS (SELECT 1 FROM a) AS Inserted
        """;

    /// <summary>
    /// Saves a user message and the placeholder of its answer (status streaming), or returns the first call's pair when
    /// <paramref name="clientMessageId"/> was already used in the conversation. Null when the conversation is not the owner's.
    /// </summary>
    public async Task<Exchange?> AddExchangeAsync(
        string ownerId, Guid conversationId, string content, string? clientMessageId, CancellationToken cancellationToken)
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
        };
        return await RunAsync(
            async (connection, attempt, ct) =>
            {
                bool found, inserted;
                try
                {
                    (found, inserted) = await connection.QuerySingleAsync<(bool ConversationFound, bool Inserted)>(
                        new CommandDefinition(AddExchangeSql, parameters, cancellationToken: ct));
                }
                catch (PostgresException e) when (attempt > 0 && e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName == "messages_pkey")
                {
                    (found, inserted) = (true, true); // the attempt whose reply was lost did insert these very ids
                }

                if (!found)
                {
                    return null;
                }

                if (inserted)
                {
                    return new Exchange(
                        new Message(userMessageId, conversationId, MessageRole.User, content, MessageStatus.Completed, now, now, null),
                        new Message(assistantMessageId, conversationId, MessageRole.Assistant, "", MessageStatus.Streaming, now, null, 0),
                        IsNew: true);
                }

                var saved = await QueryExchangeAsync(connection, ownerId, conversationId, clientMessageId!, ct)
                    ?? throw new InvalidOperationException($"client message id {clientMessageId} conflicted but its exchange is not there");
                // Ours when an attempt whose reply was lost inserted it; else the first call with this client key.
                return saved with { IsNew = saved.UserMessage.Id == userMessageId };
            },
            cancellationToken);
    }

    private const string FindExchangeSql = $"""
        SELECT {MessageColumns} FROM messages
        WHERE EXISTS (SELECT 1 FROM conversations WHERE id = @ConversationId AND owner_id = @OwnerId)
          AND (id = (SELECT id FROM messages WHERE conversation_id = @ConversationId AND client_message_id = @ClientMessageId)
           OR reply_to_id = (SELECT id FROM messages WHERE conversation_id = @ConversationId AND client_message_id = @ClientMessageId))
        ORDER BY position
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

    // Idempotent: only a message still streaming is written, so a retried or concurrent save is a no-op.
    private const string SaveFinalSql = """
        WITH m AS (
            UPDATE messages
            SET content = @Content, status = @Status, last_sequence = @LastSequence, error = @Error, completed_at = @Now,
                finish_reason = @FinishReason, prompt_tokens = @PromptTokens, completion_tokens = @CompletionTokens
            WHERE id = @MessageId AND status = 'streaming'
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
                Now = Now().UtcDateTime,
            },
            cancellationToken: cancellationToken));
        return changed > 0;
    }

    // The conversation before the given user message, newest first; answers that failed or are still streaming are
    // left out (the model should not build on them).
    private const string HistorySql = """
        SELECT role AS Role, content AS Content FROM messages
        WHERE conversation_id = @ConversationId
          AND position < (SELECT position FROM messages WHERE id = @BeforeMessageId)
          AND status NOT IN ('streaming', 'failed')
          AND content <> ''
        ORDER BY position DESC
        LIMIT @Limit
        """;

    /// <summary>Up to <paramref name="limit"/> messages before <paramref name="beforeMessageId"/>, newest first.</summary>
    public async Task<IReadOnlyList<(MessageRole Role, string Content)>> GetHistoryAsync(
        Guid conversationId, Guid beforeMessageId, int limit, CancellationToken cancellationToken)
    {
        if (limit <= 0)
        {
            return [];
        }

        var rows = await ReadAsync((connection, ct) => connection.QueryAsync<(string Role, string Content)>(new CommandDefinition(
            HistorySql, new { ConversationId = conversationId, BeforeMessageId = beforeMessageId, Limit = limit }, cancellationToken: ct)), cancellationToken);
        return [.. rows.Select(r => (MessageStatusNames.ParseRole(r.Role), StoredText.Decode(r.Content)))];
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
