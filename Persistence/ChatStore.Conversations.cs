using System.Globalization;
using ChatStreaming.Contracts;
using Dapper;

namespace ChatStreaming.Persistence;

/// <summary>Managing conversations: a page of the list, rename, delete.</summary>
public sealed partial class ChatStore
{
    // Keyset paging on (updated_at, id), both descending, served by ix_conversations_owner_updated_id.
    private const string ConversationPageSql = $"""
        SELECT {ConversationColumns} FROM conversations
        WHERE owner_id = @OwnerId
          AND (@BeforeAt::timestamptz IS NULL OR (updated_at, id) < (@BeforeAt::timestamptz, @BeforeId::uuid))
        ORDER BY updated_at DESC, id DESC
        LIMIT @Take
        """;

    /// <summary>
    /// The owner's conversations after <paramref name="cursor"/> (none: the newest), newest activity first, at most
    /// <paramref name="limit"/>, and the cursor of the next page (null at the end). Throws <see cref="FormatException"/>
    /// for a cursor this store did not make.
    /// </summary>
    public async Task<(IReadOnlyList<Conversation> Conversations, string? NextCursor)> GetConversationPageAsync(
        string ownerId, string? cursor, int limit, CancellationToken cancellationToken)
    {
        var (beforeAt, beforeId) = cursor is null ? (null, null) : ParseCursor(cursor);
        var rows = (await ReadAsync((connection, ct) => connection.QueryAsync<ConversationRow>(new CommandDefinition(
            ConversationPageSql, new { OwnerId = ownerId, BeforeAt = beforeAt, BeforeId = beforeId, Take = limit + 1 }, cancellationToken: ct)), cancellationToken)).ToList();
        var page = rows.Take(limit).ToList();
        var next = rows.Count > limit ? Cursor(page[^1]) : null;
        return ([.. page.Select(r => r.ToConversation())], next);
    }

    // A cursor is the last row's updated_at (Unix microseconds, Postgres' precision) and id.
    private static string Cursor(ConversationRow row) =>
        string.Create(CultureInfo.InvariantCulture, $"{(DateTime.SpecifyKind(row.UpdatedAt, DateTimeKind.Utc) - DateTime.UnixEpoch).Ticks / 10}.{row.Id:N}");

    private static (DateTime?, Guid?) ParseCursor(string cursor)
    {
        var dot = cursor.IndexOf('.');
        return dot > 0 && long.TryParse(cursor.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var micros)
            && micros < DateTime.MaxValue.Ticks / 10 - DateTime.UnixEpoch.Ticks / 10
            && Guid.TryParseExact(cursor.AsSpan(dot + 1), "N", out var id)
                ? (DateTime.UnixEpoch.AddTicks(micros * 10), id)
                : throw new FormatException("not a conversation cursor");
    }

    // A change of title, model or prompt is not activity: the list's order (updated_at) stays. Null leaves a field as
    // it is; an empty model or prompt clears it (back to the defaults).
    private const string UpdateConversationSql = $"""
        UPDATE conversations SET
            title = COALESCE(@Title, title),
            model = CASE WHEN @Model::text IS NULL THEN model ELSE NULLIF(@Model::text, '') END,
            system_prompt = CASE WHEN @SystemPrompt::text IS NULL THEN system_prompt ELSE NULLIF(@SystemPrompt::text, '') END
        WHERE id = @Id AND owner_id = @OwnerId
        RETURNING {ConversationColumns}
        """;

    /// <summary>The changed conversation, or null when it is not the owner's. Null arguments leave their field as it is.</summary>
    public async Task<Conversation?> UpdateConversationAsync(
        string ownerId, Guid conversationId, string? title, string? model, string? systemPrompt, CancellationToken cancellationToken)
    {
        var row = await RunAsync((connection, _, ct) => connection.QuerySingleOrDefaultAsync<ConversationRow>(new CommandDefinition(
            UpdateConversationSql,
            new
            {
                Id = conversationId,
                OwnerId = ownerId,
                Title = title is null ? null : StoredText.Encode(title),
                Model = model,
                SystemPrompt = systemPrompt is null ? null : StoredText.Encode(systemPrompt),
            },
            cancellationToken: ct)), cancellationToken);
        return row?.ToConversation();
    }

    private const string ConversationMessageIdsSql = """
        SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id
        WHERE c.id = @Id AND c.owner_id = @OwnerId
        """;

    /// <summary>The ids of every message of the owner's conversation (none when it is not the owner's).</summary>
    public async Task<IReadOnlyList<Guid>> GetMessageIdsAsync(string ownerId, Guid conversationId, CancellationToken cancellationToken) =>
        [.. await ReadAsync((connection, ct) => connection.QueryAsync<Guid>(new CommandDefinition(
            ConversationMessageIdsSql, new { Id = conversationId, OwnerId = ownerId }, cancellationToken: ct)), cancellationToken)];

    // Its messages go with it (ON DELETE CASCADE); returns their ids, so their Redis keys can go too.
    private const string DeleteConversationSql = """
        WITH c AS (DELETE FROM conversations WHERE id = @Id AND owner_id = @OwnerId RETURNING id)
        SELECT EXISTS (SELECT 1 FROM c) AS Deleted, ARRAY(SELECT m.id FROM messages m, c WHERE m.conversation_id = c.id) AS MessageIds
        """;

    /// <summary>Deletes the owner's conversation and its messages; null when it is not the owner's, else the deleted messages' ids.</summary>
    public async Task<IReadOnlyList<Guid>?> DeleteConversationAsync(string ownerId, Guid conversationId, CancellationToken cancellationToken)
    {
        var (deleted, messageIds) = await RunAsync((connection, _, ct) => connection.QuerySingleAsync<(bool, Guid[])>(new CommandDefinition(
            DeleteConversationSql, new { Id = conversationId, OwnerId = ownerId }, cancellationToken: ct)), cancellationToken);
        return deleted ? messageIds : null;
    }
}
