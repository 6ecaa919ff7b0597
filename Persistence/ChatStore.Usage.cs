using ChatStreaming.Contracts;
using Dapper;

namespace ChatStreaming.Persistence;

public sealed partial class ChatStore
{
    /// <summary>What <see cref="ModelUsage.Model"/> says for answers saved before the catalog recorded a model.</summary>
    public const string UnknownModel = "unknown";

    // The owner's answers that ended in [From, To), per model. Answers of deleted conversations are gone with them.
    private const string UsageSql = """
        SELECT COALESCE(m.model, @Unknown) AS Model, count(*) AS Answers,
               COALESCE(sum(m.prompt_tokens), 0)::bigint AS PromptTokens, COALESCE(sum(m.completion_tokens), 0)::bigint AS CompletionTokens,
               count(*) FILTER (WHERE m.usage_estimated) AS EstimatedAnswers
        FROM messages m JOIN conversations c ON c.id = m.conversation_id
        WHERE c.owner_id = @OwnerId AND m.role = 'assistant' AND m.completed_at IS NOT NULL
          AND (@From::timestamptz IS NULL OR m.completed_at >= @From::timestamptz)
          AND (@To::timestamptz IS NULL OR m.completed_at < @To::timestamptz)
        GROUP BY 1
        ORDER BY 1
        """;

    /// <summary>The owner's token usage per model, for answers that ended between <paramref name="from"/> and <paramref name="to"/>.</summary>
    public async Task<IReadOnlyList<ModelUsage>> GetUsageAsync(string ownerId, DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        var rows = await ReadAsync((connection, ct) => connection.QueryAsync<(string Model, long Answers, long PromptTokens, long CompletionTokens, long EstimatedAnswers)>(new CommandDefinition(
            UsageSql, new { OwnerId = ownerId, From = from?.UtcDateTime, To = to?.UtcDateTime, Unknown = UnknownModel }, cancellationToken: ct)), cancellationToken);
        return [.. rows.Select(r => new ModelUsage(r.Model, r.Answers, r.PromptTokens, r.CompletionTokens) { EstimatedAnswers = r.EstimatedAnswers })];
    }
}
