using ChatStreaming.Contracts;
using ChatStreaming.Persistence;
using ChatStreaming.Worker.Diagnostics;
using ChatStreaming.Worker.Ending;
using ChatStreaming.Worker.Model;
using ChatStreaming.Worker.Redis;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Worker.Facade;

/// <summary>
/// The door for conversations, for the hub and the REST routes alike: every rule (ownership, titles, paging limits,
/// search and usage ranges) is written here once. Another user's conversation is refused exactly as an unknown one.
/// </summary>
public sealed partial class Conversations
{
    /// <summary>Most conversations one list returns (hub and REST).</summary>
    public const int MaxListed = 200;
    public const int MaxTitleCharacters = 200;
    public const int MaxSystemPromptCharacters = 8_000;

    private readonly ChatStore store;
    private readonly ConversationReader reader;
    private readonly GenerationState state;
    private readonly ModelCatalog models;
    private readonly WorkerMetrics metrics;
    private readonly IOptions<ChatStreamingOptions> options;

    internal Conversations(ChatStore store, ConversationReader reader, GenerationState state, ModelCatalog models, WorkerMetrics metrics, IOptions<ChatStreamingOptions> options)
    {
        this.store = store;
        this.reader = reader;
        this.state = state;
        this.models = models;
        this.metrics = metrics;
        this.options = options;
    }

    private int SnapshotMessages => options.Value.SnapshotMessages;

    public async Task<Outcome<Conversation>> CreateAsync(string userId, string? title, CancellationToken cancellationToken) =>
        Title(title, out var valid) is { } refused ? refused : await store.CreateConversationAsync(userId, valid, cancellationToken);

    /// <summary>The caller's conversations, newest first (the first page of <see cref="GetPageAsync"/>).</summary>
    public Task<IReadOnlyList<Conversation>> ListAsync(string userId, CancellationToken cancellationToken) =>
        store.ListConversationsAsync(userId, MaxListed, cancellationToken);

    public async Task<Outcome<ConversationPage>> GetPageAsync(string userId, string? before, int? limit, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > MaxListed)
        {
            return Refusal.Invalid("limit", $"limit must be between 1 and {MaxListed}");
        }

        try
        {
            var (conversations, next) = await store.GetConversationPageAsync(userId, before, limit ?? MaxListed, cancellationToken);
            return new ConversationPage(conversations, next);
        }
        catch (FormatException)
        {
            return Refusal.Invalid("before", "before must be the nextCursor of an earlier page");
        }
    }

    /// <summary>The caller's conversation, or a refusal as an unknown one.</summary>
    public async Task<Outcome<Conversation>> FindAsync(string userId, Guid conversationId, CancellationToken cancellationToken) =>
        await store.GetConversationAsync(userId, conversationId, cancellationToken) is { } conversation ? conversation : Refusal.NotFound(ChatErrors.ConversationNotFound);

    /// <summary>
    /// The conversation and its newest messages. Invariant: <paramref name="join"/> (the caller's connection joins the
    /// conversation) runs before the messages are read, so a chunk published meanwhile is in the snapshot, or delivered
    /// live, or both (the client drops sequences it has), never neither.
    /// </summary>
    public async Task<Outcome<ConversationSnapshot>> OpenAsync(string userId, Guid conversationId, Func<Task> join, CancellationToken cancellationToken)
    {
        if (await store.GetConversationAsync(userId, conversationId, cancellationToken) is not { } conversation)
        {
            return Refusal.NotFound(ChatErrors.ConversationNotFound);
        }

        await join();
        var page = await reader.GetMessagesAsync(conversationId, null, SnapshotMessages, cancellationToken);
        if (page.Messages.Any(m => m.Status == MessageStatus.Streaming))
        {
            metrics.Resumed();
        }

        return new ConversationSnapshot(conversation, page.Messages, page.HasMoreBefore);
    }

    /// <summary>The newest <paramref name="limit"/> messages (default and most: Chat:SnapshotMessages) before a position, oldest first.</summary>
    public async Task<Outcome<MessagePage>> GetMessagesAsync(string userId, Guid conversationId, long? beforePosition, int? limit, CancellationToken cancellationToken)
    {
        if (limit is < 1 || limit > SnapshotMessages)
        {
            return Refusal.Invalid("limit", $"limit must be between 1 and {SnapshotMessages}");
        }

        return await store.GetConversationAsync(userId, conversationId, cancellationToken) is null
            ? Refusal.NotFound(ChatErrors.ConversationNotFound)
            : await reader.GetMessagesAsync(conversationId, beforePosition, limit ?? SnapshotMessages, cancellationToken);
    }

    /// <summary>Renames, or sets the model or system prompt (null = unchanged, "" = back to the default).</summary>
    public async Task<Outcome<Conversation>> UpdateAsync(string userId, UpdateConversationRequest request, CancellationToken cancellationToken)
    {
        var titleOnly = request.Model is null && request.SystemPrompt is null; // the request as it was before models: null renames to the default
        string? title = null;
        if (request.Title is not null || titleOnly)
        {
            if (Title(request.Title, out var valid) is { } badTitle)
            {
                return badTitle;
            }

            title = valid;
        }

        var model = request.Model;
        if (model is { Length: > 0 })
        {
            model = models.Find(model);
            if (model is null)
            {
                return Refusal.Invalid("model", ChatErrors.UnknownModel(request.Model!, models.List().Select(m => m.Name)));
            }
        }

        if (request.SystemPrompt is { Length: > MaxSystemPromptCharacters })
        {
            return Refusal.Invalid("systemPrompt", $"systemPrompt must be at most {MaxSystemPromptCharacters} characters");
        }

        return await store.UpdateConversationAsync(userId, request.ConversationId, title, model, request.SystemPrompt?.Trim(), cancellationToken) is { } updated
            ? updated
            : Refusal.NotFound(ChatErrors.ConversationNotFound);
    }

    /// <summary>
    /// Running answers are cancelled and every Redis key of its messages removed before the rows go, so nothing of it
    /// stays readable; a message saved meanwhile (a send racing the delete) is forgotten after the delete.
    /// </summary>
    public async Task<Outcome<bool>> DeleteAsync(string userId, Guid conversationId, CancellationToken cancellationToken)
    {
        if (await store.GetConversationAsync(userId, conversationId, cancellationToken) is null)
        {
            return Refusal.NotFound(ChatErrors.ConversationNotFound);
        }

        // Before its messages are listed: a send racing the delete either registered its answer first (then the list
        // has it, and it is forgotten below) or cannot register it at all. With Redis away no answer registers either,
        // and a conversation without messages is still deleted (one with messages needs Redis to forget them, below).
        try
        {
            await state.MarkDeletedAsync(conversationId);
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
            // nothing to mark while nothing can register
        }

        var messageIds = await store.GetMessageIdsAsync(userId, conversationId, cancellationToken);
        await state.ForgetAsync(conversationId, messageIds);
        if (await store.DeleteConversationAsync(userId, conversationId, cancellationToken) is not { } deleted)
        {
            return Refusal.NotFound(ChatErrors.ConversationNotFound); // deleted by a concurrent call
        }

        await state.ForgetAsync(conversationId, [.. deleted.Except(messageIds)]);
        return true;
    }

    /// <summary>Trimmed; empty means "New conversation"; at most <see cref="MaxTitleCharacters"/>. Null when valid.</summary>
    private static Refusal? Title(string? title, out string valid)
    {
        valid = string.IsNullOrWhiteSpace(title) ? "New conversation" : title.Trim();
        return valid.Length <= MaxTitleCharacters ? null : Refusal.Invalid("title", $"title must be at most {MaxTitleCharacters} characters");
    }
}
