using System.ComponentModel;
using ChatStreaming.Persistence;
using Microsoft.Extensions.AI;

namespace ChatStreaming.Worker.Tools;

/// <summary>
/// The built-in tool <c>search_history</c>: full-text search of the caller's own saved messages (the search behind
/// SearchMessages), so a model can look up what the user discussed before. Scoped to <see cref="ToolCaller.Current"/>:
/// another user's messages are never read.
/// </summary>
internal sealed class SearchHistoryTool(ChatStore store)
{
    public const string Name = "search_history";

    private const int MaxHits = 5;

    public AIFunction AsFunction() => AIFunctionFactory.Create(SearchAsync, new AIFunctionFactoryOptions
    {
        Name = Name,
        Description = "Searches the user's own earlier chat messages (all their conversations) and returns the best matches, newest wording first.",
    });

    [Description("Search the user's earlier messages.")]
    private async Task<IReadOnlyList<HistoryHit>> SearchAsync(
        [Description("Words to look for (web-search syntax: words, \"a phrase\", -excluded).")] string query,
        CancellationToken cancellationToken)
    {
        var caller = ToolCaller.Current ?? throw new InvalidOperationException("search_history runs only inside a generation");
        if (string.IsNullOrWhiteSpace(query))
        {
            return [];
        }

        query = query.Trim();
        var hits = await store.SearchMessagesAsync(caller.UserId, query.Length > 500 ? query[..500] : query, MaxHits, conversationId: null, cancellationToken);
        return [.. hits.Select(h => new HistoryHit(h.ConversationTitle, h.Role.ToString().ToLowerInvariant(), h.Snippet, h.CreatedAt))];
    }

    /// <summary>One match as the model sees it.</summary>
    public sealed record HistoryHit(string Conversation, string Role, string Snippet, DateTimeOffset At);
}
