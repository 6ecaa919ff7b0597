using ChatStreaming.Contracts;
using Dapper;

namespace ChatStreaming.Persistence;

/// <summary>
/// Full-text search of saved messages: PostgreSQL's own (<c>websearch_to_tsquery</c> over the GIN-indexed
/// <c>messages.search</c> column, English stemming), ranked by <c>ts_rank_cd</c>, newest first among equals.
/// </summary>
public sealed partial class ChatStore
{
    // The snippet marks matches with ** (plain text: clients must never render it as HTML).
    private const string SearchSql = """
        SELECT m.conversation_id AS ConversationId, c.title AS ConversationTitle, m.id AS MessageId, m.role AS Role,
               ts_headline('english', m.content, q, 'StartSel=**, StopSel=**, MaxWords=30, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "') AS Snippet,
               m.created_at AS CreatedAt
        FROM messages m
        JOIN conversations c ON c.id = m.conversation_id
        CROSS JOIN websearch_to_tsquery('english', @Query) q
        WHERE c.owner_id = @OwnerId
          AND (@ConversationId::uuid IS NULL OR m.conversation_id = @ConversationId::uuid)
          AND m.search @@ q
        ORDER BY ts_rank_cd(m.search, q) DESC, m.position DESC
        LIMIT @Limit
        """;

    /// <summary>The owner's saved messages matching <paramref name="query"/> (web-search syntax), best first.</summary>
    public async Task<IReadOnlyList<SearchHit>> SearchMessagesAsync(
        string ownerId, string query, int limit, Guid? conversationId, CancellationToken cancellationToken)
    {
        var rows = await ReadAsync((connection, ct) => connection.QueryAsync<SearchRow>(new CommandDefinition(
            // NUL, which Postgres text cannot hold (saved text escapes it, StoredText), can only separate words here.
            SearchSql, new { OwnerId = ownerId, Query = query.Replace('\0', ' '), Limit = limit, ConversationId = conversationId }, cancellationToken: ct)), cancellationToken);
        return [.. rows.Select(r => new SearchHit(
            r.ConversationId,
            StoredText.Decode(r.ConversationTitle),
            r.MessageId,
            MessageStatusNames.ParseRole(r.Role),
            StoredText.Decode(r.Snippet),
            new DateTimeOffset(DateTime.SpecifyKind(r.CreatedAt, DateTimeKind.Utc))))];
    }

    private sealed record SearchRow(Guid ConversationId, string ConversationTitle, Guid MessageId, string Role, string Snippet, DateTime CreatedAt);
}
