using ChatStreaming.Contracts;

namespace ChatStreaming.Worker.Facade;

/// <summary>Branches, search, the model catalog, usage and the export.</summary>
public sealed partial class Conversations
{
    /// <summary>Most search hits one call returns (hub and REST); the default is <see cref="DefaultSearchHits"/>.</summary>
    public const int MaxSearchHits = 100;
    public const int DefaultSearchHits = 20;
    public const int MaxQueryCharacters = 500;

    /// <summary>Most messages an export holds (the active branch, oldest first).</summary>
    public const int MaxExportedMessages = 100_000;

    /// <summary>The newest path through the message becomes the active branch; <paramref name="join"/> runs before the read, as in <see cref="OpenAsync"/>.</summary>
    public async Task<Outcome<ConversationSnapshot>> SelectBranchAsync(string userId, SelectBranchRequest request, Func<Task> join, CancellationToken cancellationToken)
    {
        if (await store.GetConversationAsync(userId, request.ConversationId, cancellationToken) is not { } conversation)
        {
            return Refusal.NotFound(ChatErrors.ConversationNotFound);
        }

        if (!await store.SelectBranchAsync(userId, request.ConversationId, request.MessageId, cancellationToken))
        {
            return Refusal.NotFound(ChatErrors.MessageNotFound);
        }

        await join();
        var page = await reader.GetMessagesAsync(request.ConversationId, null, SnapshotMessages, cancellationToken);
        return new ConversationSnapshot(conversation, page.Messages, page.HasMoreBefore);
    }

    /// <summary>The caller's saved messages matching the query, best first (in one conversation when it names one).</summary>
    public async Task<Outcome<IReadOnlyList<SearchHit>>> SearchAsync(string userId, SearchMessagesRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Query))
        {
            return Refusal.Invalid("query", "query must not be empty");
        }

        if (request.Query.Length > MaxQueryCharacters)
        {
            return Refusal.Invalid("query", $"query must be at most {MaxQueryCharacters} characters");
        }

        if (request.Limit is < 1 or > MaxSearchHits)
        {
            return Refusal.Invalid("limit", $"limit must be between 1 and {MaxSearchHits}");
        }

        if (request.ConversationId is { } conversationId && await store.GetConversationAsync(userId, conversationId, cancellationToken) is null)
        {
            return Refusal.NotFound(ChatErrors.ConversationNotFound);
        }

        return Outcome.Ok(
            await store.SearchMessagesAsync(userId, request.Query, request.Limit ?? DefaultSearchHits, request.ConversationId, cancellationToken));
    }

    /// <summary>The models of the catalog: the default first, then by name.</summary>
    public IReadOnlyList<ModelInfo> ListModels() => models.List();

    /// <summary>The caller's token usage per model for answers that ended in [from, to).</summary>
    public async Task<Outcome<IReadOnlyList<ModelUsage>>> GetUsageAsync(string userId, UsageRequest? request, CancellationToken cancellationToken)
    {
        request ??= new UsageRequest();
        if (request.From is { } from && request.To is { } to && to < from)
        {
            return Refusal.Invalid("to", "to must not be before from");
        }

        return Outcome.Ok(await store.GetUsageAsync(userId, request.From, request.To, cancellationToken));
    }

    /// <summary>The conversation's active branch with every message's status (streaming answers as far as they got).</summary>
    public async Task<Outcome<ConversationExport>> ExportAsync(string userId, Guid conversationId, CancellationToken cancellationToken)
    {
        if (await store.GetConversationAsync(userId, conversationId, cancellationToken) is not { } conversation)
        {
            return Refusal.NotFound(ChatErrors.ConversationNotFound);
        }

        var messages = (await reader.GetMessagesAsync(conversationId, null, MaxExportedMessages, cancellationToken)).Messages;
        return new ConversationExport(conversation, messages);
    }
}
