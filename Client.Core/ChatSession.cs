using ChatStreaming.Contracts;
using Microsoft.AspNetCore.SignalR.Client;

namespace ChatStreaming.Client.Core;

/// <summary>
/// A connection to the hub that keeps every answer exact: reconnects with backoff for ever, rejoins the open
/// conversation after a reconnect, drops duplicate chunks, fetches missed ones, and ends with the saved text.
/// </summary>
public sealed partial class ChatSession : IAsyncDisposable
{
    private readonly Dictionary<Guid, AnswerState> answers = [];
    private readonly SemaphoreSlim gate = new(1, 1); // Invariant: answer state changes one event at a time.
    private readonly CancellationTokenSource closing = new();
    private Task watchdog = Task.CompletedTask;

    /// <param name="configure">Transport options, e.g. WebSockets with SkipNegotiation behind a load balancer without sticky sessions.</param>
    /// <param name="protocol">The hub protocol: JSON (the default, readable) or MessagePack (smaller frames, cheaper to encode).</param>
    public ChatSession(
        Uri baseUrl,
        Func<Task<string?>> accessTokenProvider,
        Action<Microsoft.AspNetCore.Http.Connections.Client.HttpConnectionOptions>? configure = null,
        ChatHubProtocol protocol = ChatHubProtocol.Json)
    {
        Connection = new HubConnectionBuilder()
            // chunkBatches: this client handles ReceiveChunks (several chunks in one frame when its connection backs up).
            .WithUrl(new Uri(baseUrl, $"{ChatHubPaths.Hub}?{ChatHubPaths.ChunkBatchesParameter}=true"), o =>
            {
                o.AccessTokenProvider = accessTokenProvider;
                configure?.Invoke(o);
            })
            .WithAutomaticReconnect(new ForeverRetryPolicy())
            .WithStatefulReconnect()
            .WithProtocol(protocol)
            .Build();
        Connection.On<Chunk>(ChatHubMethods.ReceiveChunk, chunk => UnderGateAsync(() => ApplyChunkAsync(chunk)));
        Connection.On<Chunk[]>(ChatHubMethods.ReceiveChunks, chunks => UnderGateAsync(async () =>
        {
            foreach (var chunk in chunks)
            {
                await ApplyChunkAsync(chunk);
            }
        }));
        Connection.On<GenerationFinished>(ChatHubMethods.GenerationFinished, finished => UnderGateAsync(() => ApplyFinished(finished)));
        Connection.On<GenerationStarted>(ChatHubMethods.GenerationStarted, started => UnderGateAsync(() =>
        {
            Answer(started.MessageId, started.ConversationId);
            Started?.Invoke(started);
            return Task.CompletedTask;
        }));
        Connection.On<GenerationResumed>(ChatHubMethods.GenerationResumed, resumed => UnderGateAsync(() =>
        {
            var answer = Answer(resumed.MessageId, resumed.ConversationId);
            answer.ResumedFrom = resumed.FromSequence;
            Resumed?.Invoke(answer);
            return Task.CompletedTask;
        }));
        Connection.On<Message>(ChatHubMethods.MessageAdded, message => MessageAdded?.Invoke(message));
        Connection.On<Conversation>(ChatHubMethods.ConversationCreated, c => ConversationChanged?.Invoke(new ConversationChange(ConversationChangeKind.Created, c.Id, c)));
        Connection.On<Conversation>(ChatHubMethods.ConversationUpdated, c =>
        {
            if (Volatile.Read(ref opening) is { } o && o.Id == c.Id)
            {
                o.Heard = c;
            }

            ConversationChanged?.Invoke(new ConversationChange(ConversationChangeKind.Updated, c.Id, c));
        });
        Connection.On<ConversationDeleted>(ChatHubMethods.ConversationDeleted, d =>
        {
            if (ConversationId == d.ConversationId)
            {
                ConversationId = null;
                _ = LeaveDeletedAsync(d.ConversationId); // not awaited: a handler waiting for a call would hold up the connection's receive loop
            }

            ConversationChanged?.Invoke(new ConversationChange(ConversationChangeKind.Deleted, d.ConversationId, null));
        });
        Connection.Reconnecting += _ => { StateChanged?.Invoke("reconnecting"); return Task.CompletedTask; };
        Connection.Closed += _ => { StateChanged?.Invoke("disconnected"); return Task.CompletedTask; };
        Connection.Reconnected += async _ =>
        {
            StateChanged?.Invoke("reconnected");
            if (ConversationId is { } id)
            {
                await RejoinAsync(id, CancellationToken.None); // a new connection is in no group; the snapshot brings what was missed
            }
        };
    }

    public HubConnection Connection { get; }

    public Guid? ConversationId { get; private set; }

    // The conversation being opened, and a change of it heard before its snapshot arrived: as new as the snapshot or
    // newer (a user's changes arrive in order), so the snapshot OpenAsync returns carries it.
    private Opening? opening;

    /// <summary>New text of an answer, in order, each piece once.</summary>
    public event Action<AnswerState, string>? TextAppended;

    /// <summary>A chunk that is not text (reasoning, a tool call or its result) was taken, in sequence.</summary>
    public event Action<AnswerState, Chunk>? PartReceived;

    /// <summary>The catalog model this session's sends ask for (null: the conversation's, else the server's default).</summary>
    public string? Model { get; set; }

    public event Action<AnswerState>? Finished;

    public event Action<GenerationStarted>? Started;

    /// <summary>An answer whose server stopped goes on from another one (the same answer, its sequences continuing).</summary>
    public event Action<AnswerState>? Resumed;

    public event Action<Chunk>? ChunkReceived;

    /// <summary>
    /// The open conversation was joined again without the app asking (after a reconnect, or by the watchdog): its
    /// snapshot, already applied to the answers, so the app can show what came while this client was away (messages and
    /// answers it never heard of: nothing else tells it).
    /// </summary>
    public event Action<ConversationSnapshot>? Rejoined;

    /// <summary>"reconnecting", "reconnected" or "disconnected".</summary>
    public event Action<string>? StateChanged;

    /// <summary>A user message was accepted in a conversation this connection is in (any tab, any instance).</summary>
    public event Action<Message>? MessageAdded;

    /// <summary>
    /// An answer this client believes is streaming but has not heard of for this long makes it reopen the conversation:
    /// delivery is at most once, so a lost chunk run or a lost end (a Redis restart) is recovered from the snapshot.
    /// </summary>
    public TimeSpan QuietLimit { get; init; } = TimeSpan.FromSeconds(10);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await Connection.StartAsync(cancellationToken);
        watchdog = WatchAsync(closing.Token);
    }

    private async Task<ConversationSnapshot> RejoinAsync(Guid conversationId, CancellationToken cancellationToken)
    {
        var snapshot = await OpenAsync(conversationId, cancellationToken);
        Rejoined?.Invoke(snapshot);
        return snapshot;
    }

    /// <summary>
    /// Joins the conversation (leaving the one open before, so its events stop coming) and applies its snapshot:
    /// answers that ended while this client was away get their end, streaming ones the text so far. The snapshot
    /// returned carries a change of the conversation (title, model) heard while it was read.
    /// </summary>
    public async Task<ConversationSnapshot> OpenAsync(Guid conversationId, CancellationToken cancellationToken)
    {
        var previous = ConversationId;
        await LeaveOpenConversationAsync(conversationId, cancellationToken);
        ConversationId = conversationId;
        var reading = new Opening(conversationId);
        Volatile.Write(ref opening, reading);
        ConversationSnapshot snapshot;
        try
        {
            snapshot = await Connection.AsChatHub(cancellationToken).JoinConversation(conversationId);
        }
        catch when (previous is { } back && back != conversationId && ConversationId == conversationId)
        {
            // Not opened (unknown, refused, the connection failing): the conversation open before stays the open one,
            // joined again, so its answers keep arriving and a send still goes there (best effort: a reconnect
            // reopens it anyway).
            ConversationId = back;
            await ReopenQuietlyAsync(back);
            throw;
        }
        finally
        {
            Interlocked.CompareExchange(ref opening, null, reading);
        }

        if (reading.Heard is { } heard)
        {
            snapshot = snapshot with { Conversation = heard };
        }

        await UnderGateAsync(() =>
        {
            ApplySnapshot(snapshot.Messages);
            return Task.CompletedTask;
        });
        return snapshot;
    }

    /// <summary>
    /// The open conversation's messages before <paramref name="beforePosition"/> (a message's position), oldest first;
    /// the answers among them become known (<see cref="Find"/>) with their saved or streamed text.
    /// </summary>
    public async Task<MessagePage> LoadEarlierAsync(long beforePosition, CancellationToken cancellationToken)
    {
        var conversationId = ConversationId ?? throw new InvalidOperationException("no conversation is open");
        var page = await Connection.AsChatHub(cancellationToken).GetMessages(conversationId, beforePosition, null);
        await UnderGateAsync(() =>
        {
            ApplySnapshot(page.Messages);
            return Task.CompletedTask;
        });
        return page;
    }

    /// <summary>Creates a conversation and makes it the open one (the one open before is left).</summary>
    public async Task<Conversation> CreateConversationAsync(string? title, CancellationToken cancellationToken)
    {
        var conversation = await Connection.AsChatHub(cancellationToken).CreateConversation(title);
        await LeaveOpenConversationAsync(conversation.Id, cancellationToken);
        ConversationId = conversation.Id;
        return conversation;
    }

    public Task<IReadOnlyList<Conversation>> ListConversationsAsync(CancellationToken cancellationToken) =>
        Connection.AsChatHub(cancellationToken).ListConversations();

    public Task<SendMessageResult> SendAsync(string content, CancellationToken cancellationToken) =>
        Connection.AsChatHub(cancellationToken).SendMessage(
            new SendMessageRequest(ConversationId ?? throw new InvalidOperationException("no conversation is open"), content, Guid.NewGuid().ToString(), Model));

    /// <summary>The server's models, the default first.</summary>
    public Task<IReadOnlyList<ModelInfo>> ListModelsAsync(CancellationToken cancellationToken) =>
        Connection.AsChatHub(cancellationToken).ListModels();

    /// <summary>Sets a conversation's model ("" = the default) and, unless null, its system prompt ("" = the model's).</summary>
    public Task<Conversation> SetConversationModelAsync(Guid conversationId, string model, string? systemPrompt, CancellationToken cancellationToken) =>
        Connection.AsChatHub(cancellationToken).UpdateConversation(new UpdateConversationRequest(conversationId, null, model, systemPrompt));

    /// <summary>The caller's token usage per model for answers that ended in [from, to).</summary>
    public Task<IReadOnlyList<ModelUsage>> GetUsageAsync(DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken) =>
        Connection.AsChatHub(cancellationToken).GetUsage(new UsageRequest(from, to));

    public Task<bool> CancelAsync(Guid messageId) => Connection.AsChatHub().CancelGeneration(messageId);

    private async Task UnderGateAsync(Func<Task> action)
    {
        await gate.WaitAsync();
        try
        {
            await action();
        }
        finally
        {
            gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await closing.CancelAsync();
        await watchdog;
        closing.Dispose();
        await Connection.DisposeAsync();
        gate.Dispose();
    }

    /// <summary>Retries for ever: 0.5 s, 1 s, 2 s… up to 10 s between attempts.</summary>
    private sealed class ForeverRetryPolicy : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext retryContext) =>
            TimeSpan.FromMilliseconds(Math.Min(10_000, 500 * Math.Pow(2, Math.Min(retryContext.PreviousRetryCount, 5))));
    }

    /// <summary>A conversation being opened; <see cref="Heard"/> is written by the event handler, read once the snapshot is in.</summary>
    private sealed class Opening(Guid id)
    {
        public Guid Id { get; } = id;

        public volatile Conversation? Heard;
    }
}
