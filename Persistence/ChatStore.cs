using ChatStreaming.Contracts;
using Dapper;
using Npgsql;

namespace ChatStreaming.Persistence;

/// <summary>
/// Conversations and messages in Postgres. Per answer the store runs a constant number of statements:
/// one to save the user message with its placeholder answer, one to save the final answer. Never one per chunk.
/// </summary>
public sealed partial class ChatStore(NpgsqlDataSource dataSource, PostgresRetry retry, TimeProvider timeProvider)
{
    /// <summary>
    /// Idempotent work on a pooled connection (a read, or a write whose ids make a repeat harmless), retried briefly on a
    /// fresh connection when it fails transiently. <c>attempt</c> counts from 0.
    /// </summary>
    private ValueTask<T> RunAsync<T>(Func<NpgsqlConnection, int, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        var attempt = 0;
        return retry.ExecuteInteractiveAsync(
            async ct =>
            {
                await using var connection = await dataSource.OpenConnectionAsync(ct);
                return await work(connection, attempt++, ct);
            },
            cancellationToken);
    }

    private ValueTask<T> ReadAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> read, CancellationToken cancellationToken) =>
        RunAsync((connection, _, ct) => read(connection, ct), cancellationToken);

    private const string ConversationColumns =
        "id AS Id, title AS Title, created_at AS CreatedAt, updated_at AS UpdatedAt, model AS Model, system_prompt AS SystemPrompt";

    // Read from "messages m". A message's siblings share its parent (the first messages of a conversation share none).
    private const string MessageColumns = """
        m.id AS Id, m.conversation_id AS ConversationId, m.role AS Role, m.content AS Content, m.status AS Status,
        m.created_at AS CreatedAt, m.completed_at AS CompletedAt, m.last_sequence AS LastSequence, m.error AS Error,
        m.finish_reason AS FinishReason, m.prompt_tokens AS PromptTokens, m.completion_tokens AS CompletionTokens,
        m.usage_estimated AS UsageEstimated, m.position AS Position, m.parent_id AS ParentId, m.model AS Model, m.parts AS Parts,
        ARRAY(SELECT s.id FROM messages s
              WHERE s.conversation_id = m.conversation_id
                AND (s.parent_id = m.parent_id OR (s.parent_id IS NULL AND m.parent_id IS NULL))
              ORDER BY s.position) AS SiblingIds
        """;

    private const string InsertConversationSql = """
        INSERT INTO conversations (id, owner_id, title, created_at, updated_at)
        VALUES (@Id, @OwnerId, @Title, @Now, @Now)
        ON CONFLICT (id) DO NOTHING
        """;

    public async Task<Conversation> CreateConversationAsync(string ownerId, string title, CancellationToken cancellationToken)
    {
        var now = Now();
        var id = Guid.CreateVersion7(now);
        await RunAsync((connection, _, ct) => connection.ExecuteAsync(new CommandDefinition(
            InsertConversationSql, new { Id = id, OwnerId = ownerId, Title = StoredText.Encode(title), Now = now.UtcDateTime }, cancellationToken: ct)), cancellationToken);
        return new Conversation(id, title, now, now); // a repeat after a lost reply inserts nothing (same id)
    }

    private const string ListConversationsSql = $"""
        SELECT {ConversationColumns} FROM conversations
        WHERE owner_id = @OwnerId
        ORDER BY updated_at DESC, id DESC
        LIMIT @Limit
        """;

    /// <summary>The owner's conversations, newest activity first.</summary>
    public async Task<IReadOnlyList<Conversation>> ListConversationsAsync(string ownerId, int limit, CancellationToken cancellationToken)
    {
        var rows = await ReadAsync((connection, ct) => connection.QueryAsync<ConversationRow>(new CommandDefinition(
            ListConversationsSql, new { OwnerId = ownerId, Limit = limit }, cancellationToken: ct)), cancellationToken);
        return [.. rows.Select(r => r.ToConversation())];
    }

    private const string GetConversationSql = $"""
        SELECT {ConversationColumns} FROM conversations WHERE id = @Id AND owner_id = @OwnerId
        """;

    // The newest Take messages of the active branch (the leaf and its ancestors) before Before (all when null), newest
    // first; the caller asks one more than it returns. It costs what it returns: the walk up the branch starts at the
    // leaf (no Before) or at the parent of the message at Before (a client paging back from the first message it has)
    // and stops after Take messages; only a Before that is no message's position walks from the leaf and filters.
    private const string GetMessagesSql = $"""
        WITH RECURSIVE anchor AS (
            SELECT m.parent_id AS id, true AS bounded FROM messages m
            WHERE m.conversation_id = @ConversationId AND m.position = @Before::bigint
            UNION ALL
            SELECT c.active_leaf_id, @Before::bigint IS NULL FROM conversations c
            WHERE c.id = @ConversationId
              AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = @ConversationId AND m.position = @Before::bigint)
        ), branch AS (
            SELECT m.id, m.parent_id, 1 AS depth, a.bounded FROM messages m JOIN anchor a ON m.id = a.id
            UNION ALL
            SELECT p.id, p.parent_id, b.depth + 1, b.bounded FROM messages p JOIN branch b ON p.id = b.parent_id
            WHERE NOT b.bounded OR b.depth < @Take
        )
        SELECT {MessageColumns} FROM messages m JOIN branch b ON b.id = m.id
        WHERE @Before::bigint IS NULL OR m.position < @Before::bigint
        ORDER BY m.position DESC
        LIMIT @Take
        """;

    /// <summary>The conversation, or null when it does not exist or is not the owner's (the two are not told apart).</summary>
    public async Task<Conversation?> GetConversationAsync(string ownerId, Guid conversationId, CancellationToken cancellationToken)
    {
        var row = await ReadAsync((connection, ct) => connection.QuerySingleOrDefaultAsync<ConversationRow>(new CommandDefinition(
            GetConversationSql, new { Id = conversationId, OwnerId = ownerId }, cancellationToken: ct)), cancellationToken);
        return row?.ToConversation();
    }

    /// <summary>
    /// The newest <paramref name="limit"/> messages of the active branch before <paramref name="beforePosition"/> (none:
    /// the newest), oldest first, and whether older ones exist. The caller has checked ownership.
    /// </summary>
    public async Task<(IReadOnlyList<Message> Messages, bool HasMoreBefore)> GetMessagesAsync(
        Guid conversationId, long? beforePosition, int limit, CancellationToken cancellationToken)
    {
        var rows = (await ReadAsync((connection, ct) => connection.QueryAsync<MessageRow>(new CommandDefinition(
            GetMessagesSql, new { ConversationId = conversationId, Before = beforePosition, Take = limit + 1 }, cancellationToken: ct)), cancellationToken)).ToList();
        var page = rows.Take(limit).Select(m => m.ToMessage()).Reverse().ToList();
        return (page, rows.Count > limit);
    }

    private const string FindMessageOwnerSql = """
        SELECT m.id AS MessageId, m.conversation_id AS ConversationId, c.owner_id AS OwnerId, m.role AS Role
        FROM messages m JOIN conversations c ON c.id = m.conversation_id
        WHERE m.id = @Id
        """;

    public async Task<MessageOwner?> FindMessageOwnerAsync(Guid messageId, CancellationToken cancellationToken) =>
        await ReadAsync((connection, ct) => connection.QuerySingleOrDefaultAsync<MessageOwner>(new CommandDefinition(
            FindMessageOwnerSql, new { Id = messageId }, cancellationToken: ct)), cancellationToken);

    /// <summary>Whether the message exists and is <paramref name="ownerId"/>'s (another user's is refused as an unknown one).</summary>
    public async Task<bool> OwnsMessageAsync(string ownerId, Guid messageId, CancellationToken cancellationToken) =>
        await FindMessageOwnerAsync(messageId, cancellationToken) is { } owner && owner.OwnerId == ownerId;

    private const string GetMessageSql = $"SELECT {MessageColumns} FROM messages m WHERE m.id = @Id";

    public async Task<Message?> GetMessageAsync(Guid messageId, CancellationToken cancellationToken)
    {
        var row = await ReadAsync((connection, ct) => connection.QuerySingleOrDefaultAsync<MessageRow>(new CommandDefinition(
            GetMessageSql, new { Id = messageId }, cancellationToken: ct)), cancellationToken);
        return row?.ToMessage();
    }

    /// <summary>Now, at Postgres' precision (microseconds), so what a call returns equals what a later read gives.</summary>
    private DateTimeOffset Now()
    {
        var now = timeProvider.GetUtcNow();
        return now.AddTicks(-(now.Ticks % 10));
    }
}
