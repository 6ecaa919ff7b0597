using ChatStreaming.Contracts;
using ChatStreaming.Server.Telemetry;
using ChatStreaming.Worker;
using ChatStreaming.Worker.Facade;
using ChatStreaming.Worker.Redis;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Server.Chat;

/// <summary>
/// The chat hub at <see cref="ChatHubPaths.Hub"/>: validation, connection groups and error mapping; everything else is
/// one call through a Worker door (<see cref="Answers"/>, <see cref="Conversations"/>, <see cref="Replay"/>,
/// <see cref="Connections"/>). Every method that takes an id refuses ids the caller does not own exactly as it refuses
/// unknown ids, so ids cannot be probed.
/// </summary>
[Authorize]
public sealed partial class ChatHub(
    Answers answers,
    Conversations conversations,
    Replay replay,
    Connections connections,
    IOptions<ChatStreamingOptions> options,
    ILogger<ChatHub> logger) : Hub<IChatHubClient>, IChatHub
{
    /// <summary>A clientMessageId is 1 to this many printable ASCII characters (a UUID, a ULID, a counter…).</summary>
    internal const int MaxClientMessageIdCharacters = 64;

    private string UserId => Context.UserIdentifier ?? throw new HubException("unauthenticated");

    private CancellationToken Aborted => Context.ConnectionAborted;

    /// <summary>The client connected with <c>?chunkBatches=true</c>: it handles <c>ReceiveChunks</c> (docs/protocol.md).</summary>
    private bool AcceptsChunkBatches =>
        string.Equals(Context.GetHttpContext()?.Request.Query[ChatHubPaths.ChunkBatchesParameter], "true", StringComparison.OrdinalIgnoreCase);

    public override async Task OnConnectedAsync()
    {
        bool opened;
        try
        {
            opened = await connections.OpenAsync(UserId, Context.ConnectionId, AcceptsChunkBatches, Context.Abort);
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
            await connections.LeaveAsync(conversationId, Context.ConnectionId);
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
        await connections.JoinAsync(conversationId, Context.ConnectionId);
        if (Aborted.IsCancellationRequested)
        {
            await connections.LeaveAsync(conversationId, Context.ConnectionId); // it closed meanwhile: leave no member behind
        }
    }

    private async Task LeaveGroupAsync(Guid conversationId)
    {
        await connections.LeaveAsync(conversationId, Context.ConnectionId);
        JoinedGroups.Remove(conversationId);
    }

    public async Task<Conversation> CreateConversation(string? title)
    {
        EnsureCanJoin(Guid.Empty); // a new conversation is one more group
        var conversation = await conversations.CreateAsync(UserId, title, Aborted).OrThrow();
        await JoinGroupAsync(conversation.Id);
        await Clients.User(UserId).ConversationCreated(conversation);
        return conversation;
    }

    public Task<IReadOnlyList<Conversation>> ListConversations() => conversations.ListAsync(UserId, Aborted);

    public Task<ConversationSnapshot> JoinConversation(Guid conversationId) =>
        conversations.OpenAsync(UserId, conversationId, () => JoinGroupAsync(conversationId), Aborted).OrThrow();

    public Task<MessagePage> GetMessages(Guid conversationId, long? beforePosition, int? limit) =>
        conversations.GetMessagesAsync(UserId, conversationId, beforePosition, limit, Aborted).OrThrow();

    /// <summary>
    /// Leaves a conversation this connection joined without asking the database (it may have been deleted since, from
    /// another tab: its group must still go); any other id is checked as every call checks it (not found otherwise).
    /// </summary>
    public async Task LeaveConversation(Guid conversationId)
    {
        if (!JoinedGroups.Contains(conversationId))
        {
            await conversations.FindAsync(UserId, conversationId, Aborted).OrThrow();
        }

        await LeaveGroupAsync(conversationId);
    }

    public Task<IReadOnlyList<Chunk>> GetChunks(Guid messageId, long afterSequence) =>
        replay.GetChunksAsync(UserId, messageId, afterSequence, Aborted).OrThrow();

    public Task<bool> CancelGeneration(Guid messageId) => answers.CancelAsync(UserId, messageId, Aborted).OrThrow();
}
