using ChatStreaming.Contracts;
using ChatStreaming.Persistence;
using ChatStreaming.Server.Telemetry;
using ChatStreaming.Worker;
using ChatStreaming.Worker.Delivery;
using ChatStreaming.Worker.Generation;
using ChatStreaming.Worker.Intake;
using ChatStreaming.Worker.Model;
using ChatStreaming.Worker.Redis;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Server.Chat;

/// <summary>
/// The chat hub at <see cref="ChatHubPaths.Hub"/>. Every method that takes an id refuses ids the caller does not own
/// exactly as it refuses unknown ids, so ids cannot be probed.
/// </summary>
[Authorize]
public sealed partial class ChatHub(
    ChatStore store,
    ConversationReader reader,
    ExchangeIntake intake,
    GenerationState generations,
    ReplayBuffer replay,
    HubMetrics metrics,
    UserConnections connections,
    ConversationSubscriptions subscriptions,
    IChatBroadcaster broadcaster,
    ModelCatalog models,
    IOptions<ChatStreamingOptions> options,
    ILogger<ChatHub> logger) : Hub<IChatHubClient>, IChatHub
{
    private const int MaxTitleCharacters = 200;
    /// <summary>A clientMessageId is 1 to this many printable ASCII characters (a UUID, a ULID, a counter…).</summary>
    internal const int MaxClientMessageIdCharacters = 64;
    /// <summary>Most conversations one list returns (hub and REST).</summary>
    internal const int MaxListedConversations = 200;

    private string UserId => Context.UserIdentifier ?? throw new HubException("unauthenticated");

    public override async Task OnConnectedAsync()
    {
        bool opened;
        try
        {
            opened = await connections.TryOpenAsync(UserId, Context.ConnectionId);
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
            ServerLog.ConnectionNotCounted(logger, ex); // Redis away: serve the connection rather than refuse everyone
            return;
        }

        if (!opened)
        {
            ServerLog.TooManyConnections(logger, UserId, options.Value.MaxConnectionsPerUser);
            Context.Abort(); // closed, not an error of the server's: the client may retry once it closed another
        }
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        foreach (var conversationId in JoinedGroups)
        {
            await subscriptions.LeaveAsync(conversationId, Context.ConnectionId);
        }

        try
        {
            await connections.CloseAsync(Context.ConnectionId);
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
            // Redis away: the entry lapses by itself within two leases
        }
    }

    /// <summary>The conversations whose group this connection is in (hub calls of one connection run one at a time).</summary>
    private HashSet<Guid> JoinedGroups => (HashSet<Guid>)(Context.Items.TryGetValue(nameof(JoinedGroups), out var joined) ? joined! : Context.Items[nameof(JoinedGroups)] = new HashSet<Guid>());

    /// <summary>Refuses a join past <c>Chat:MaxGroupsPerConnection</c> (before anything is saved or joined).</summary>
    private void EnsureCanJoin(Guid conversationId)
    {
        var max = options.Value.MaxGroupsPerConnection;
        if (!JoinedGroups.Contains(conversationId) && JoinedGroups.Count >= max)
        {
            throw new HubException($"too many conversations open on this connection (at most {max}): leave one first (LeaveConversation)");
        }
    }

    /// <summary>The connection receives the conversation's events from now on (live once this returns), on every instance.</summary>
    private async Task JoinGroupAsync(Guid conversationId)
    {
        EnsureCanJoin(conversationId);
        JoinedGroups.Add(conversationId);
        await subscriptions.JoinAsync(conversationId, Context.ConnectionId);
        if (Aborted.IsCancellationRequested)
        {
            await subscriptions.LeaveAsync(conversationId, Context.ConnectionId); // it closed meanwhile: leave no member behind
        }
    }

    private CancellationToken Aborted => Context.ConnectionAborted;

    public async Task<Conversation> CreateConversation(string? title)
    {
        title = Title(title);
        EnsureCanJoin(Guid.Empty); // a new conversation is one more group
        var conversation = await store.CreateConversationAsync(UserId, title, Aborted);
        await JoinGroupAsync(conversation.Id);
        await Clients.User(UserId).ConversationCreated(conversation);
        return conversation;
    }

    /// <summary>Trimmed; empty means "New conversation"; at most <see cref="MaxTitleCharacters"/>.</summary>
    private static string Title(string? title)
    {
        title = string.IsNullOrWhiteSpace(title) ? "New conversation" : title.Trim();
        return title.Length <= MaxTitleCharacters ? title : throw new HubException($"title must be at most {MaxTitleCharacters} characters");
    }

    public Task<IReadOnlyList<Conversation>> ListConversations() =>
        store.ListConversationsAsync(UserId, MaxListedConversations, Aborted);

    public async Task<ConversationSnapshot> JoinConversation(Guid conversationId)
    {
        var conversation = await store.GetConversationAsync(UserId, conversationId, Aborted)
            ?? throw new HubException(ChatErrors.ConversationNotFound);

        // Invariant: join the group before reading the messages. A chunk published meanwhile is then either in the
        // snapshot, or delivered live, or both (the client drops sequences it has), never neither.
        await JoinGroupAsync(conversationId);
        var page = await reader.GetMessagesAsync(conversationId, null, options.Value.SnapshotMessages, Aborted);
        if (page.Messages.Any(m => m.Status == MessageStatus.Streaming))
        {
            metrics.Resumed();
        }

        return new ConversationSnapshot(conversation, page.Messages, page.HasMoreBefore);
    }

    public async Task<MessagePage> GetMessages(Guid conversationId, long? beforePosition, int? limit)
    {
        var max = options.Value.SnapshotMessages;
        if (limit is < 1 || limit > max)
        {
            throw new HubException($"limit must be between 1 and {max}");
        }

        _ = await store.GetConversationAsync(UserId, conversationId, Aborted) ?? throw new HubException(ChatErrors.ConversationNotFound);
        return await reader.GetMessagesAsync(conversationId, beforePosition, limit ?? max, Aborted);
    }

    public async Task LeaveConversation(Guid conversationId)
    {
        _ = await store.GetConversationAsync(UserId, conversationId, Aborted) ?? throw new HubException(ChatErrors.ConversationNotFound);
        await subscriptions.LeaveAsync(conversationId, Context.ConnectionId);
        JoinedGroups.Remove(conversationId);
    }

    public async Task<IReadOnlyList<Chunk>> GetChunks(Guid messageId, long afterSequence)
    {
        if (afterSequence < 0)
        {
            throw new HubException("afterSequence must be 0 or more");
        }

        var replayed = await replay.GetChunksAsync(messageId, afterSequence);
        if (replayed is { } found)
        {
            if (found.Generation.OwnerId != UserId)
            {
                throw new HubException(ChatErrors.MessageNotFound);
            }

            metrics.Replay(hit: true);
            return found.Chunks;
        }

        // No replay buffer: tell "gone" from "never yours" only to the owner.
        await RequireOwnedMessageAsync(messageId);
        metrics.Replay(hit: false);
        throw new HubException(ChatErrors.ReplayUnavailable);
    }

    public async Task<bool> CancelGeneration(Guid messageId)
    {
        var generation = await generations.GetGenerationAsync(messageId);
        if (generation is null)
        {
            await RequireOwnedMessageAsync(messageId);
            return false; // its state expired long after it ended
        }

        return generation.OwnerId == UserId
            ? await generations.RequestCancelAsync(messageId)
            : throw new HubException(ChatErrors.MessageNotFound);
    }

    private async Task RequireOwnedMessageAsync(Guid messageId)
    {
        var owner = await store.FindMessageOwnerAsync(messageId, Aborted);
        if (owner is null || owner.OwnerId != UserId)
        {
            throw new HubException(ChatErrors.MessageNotFound);
        }
    }
}
