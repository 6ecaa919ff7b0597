using System.Collections.Concurrent;
using ChatStreaming.Client.Core;
using Microsoft.AspNetCore.SignalR.Client;

namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>A real SignalR client (JSON protocol, WebSockets) that records every event it receives.</summary>
public sealed class ChatTestClient : IAsyncDisposable
{
    private readonly ConcurrentQueue<Chunk> chunks = new();
    private readonly ConcurrentQueue<GenerationFinished> finished = new();
    private readonly ConcurrentQueue<GenerationStarted> started = new();
    private readonly ConcurrentQueue<GenerationResumed> resumed = new();
    private readonly ConcurrentQueue<Message> added = new();
    private readonly ConcurrentQueue<(string Event, Guid ConversationId, string? Title)> listEvents = new();
    private int batches;

    private ChatTestClient(HubConnection connection)
    {
        Connection = connection;
        connection.On<Chunk>(ChatHubMethods.ReceiveChunk, chunks.Enqueue);
        connection.On<Chunk[]>(ChatHubMethods.ReceiveChunks, batch =>
        {
            Interlocked.Increment(ref batches);
            foreach (var chunk in batch)
            {
                chunks.Enqueue(chunk);
            }
        });
        connection.On<GenerationFinished>(ChatHubMethods.GenerationFinished, finished.Enqueue);
        connection.On<GenerationStarted>(ChatHubMethods.GenerationStarted, started.Enqueue);
        connection.On<GenerationResumed>(ChatHubMethods.GenerationResumed, resumed.Enqueue);
        connection.On<Message>(ChatHubMethods.MessageAdded, added.Enqueue);
        connection.On<Conversation>(ChatHubMethods.ConversationCreated, c => listEvents.Enqueue((ChatHubMethods.ConversationCreated, c.Id, c.Title)));
        connection.On<Conversation>(ChatHubMethods.ConversationUpdated, c =>
        {
            updated.Enqueue(c);
            listEvents.Enqueue((ChatHubMethods.ConversationUpdated, c.Id, c.Title));
        });
        connection.On<ConversationDeleted>(ChatHubMethods.ConversationDeleted, d => listEvents.Enqueue((ChatHubMethods.ConversationDeleted, d.ConversationId, null)));
    }

    /// <summary>The conversation-list events received (ConversationCreated / Updated / Deleted), in order.</summary>
    private readonly ConcurrentQueue<Conversation> updated = new();

    public IReadOnlyList<(string Event, Guid ConversationId, string? Title)> ListEvents => [.. listEvents];

    public Task WaitForListEventAsync(string @event, Guid conversationId) =>
        Wait.UntilAsync(() => listEvents.Any(e => e.Event == @event && e.ConversationId == conversationId), Wait.Default, $"{@event} for {conversationId} did not arrive");

    public HubConnection Connection { get; }

    /// <summary>Every ConversationUpdated event received, whole.</summary>
    public IReadOnlyCollection<Conversation> ConversationsUpdated => updated;

    public IReadOnlyCollection<Message> MessagesAdded => added;

    public IReadOnlyCollection<GenerationStarted> Started => started;

    /// <summary>Every GenerationResumed received (an answer carried on by another instance).</summary>
    public IReadOnlyCollection<GenerationResumed> Resumed => resumed;

    /// <summary>How many ReceiveChunks frames arrived (their chunks are in the chunk list, in order, like any other).</summary>
    public int BatchesReceived => Volatile.Read(ref batches);

    /// <summary>
    /// Connects as the product's clients do: saying it takes <c>ReceiveChunks</c> unless <paramref name="acceptChunkBatches"/>
    /// is false (a client written before batches existed).
    /// </summary>
    public static async Task<ChatTestClient> ConnectAsync(string baseUrl, string accessToken, bool acceptChunkBatches = true)
    {
        var query = acceptChunkBatches ? $"?{ChatHubPaths.ChunkBatchesParameter}=true" : "";
        var connection = new HubConnectionBuilder()
            .WithUrl($"{baseUrl}{ChatHubPaths.Hub}{query}", o => o.AccessTokenProvider = () => Task.FromResult<string?>(accessToken))
            .Build();
        var client = new ChatTestClient(connection);
        await connection.StartAsync().WithTimeout();
        return client;
    }

    /// <summary>
    /// The hub, typed (Client.Core's <see cref="ChatHubProxy"/>). Each read is a new proxy whose calls give up after
    /// <see cref="Wait.Default"/> (so no test hangs): call through it at once, do not keep it. Tests of the raw wire
    /// (malformed or wrong-typed arguments, unknown methods) use <see cref="Connection"/> instead.
    /// </summary>
    public IChatHub Hub => Connection.AsChatHub(new CancellationTokenSource(Wait.Default).Token);

    public Task<Conversation> CreateConversationAsync(string? title = "test") => Hub.CreateConversation(title);

    public Task<SendMessageResult> SendAsync(Guid conversationId, string content, string? clientMessageId = null, string? model = null) =>
        Hub.SendMessage(new SendMessageRequest(conversationId, content, clientMessageId, model));

    public IReadOnlyList<Chunk> ChunksOf(Guid messageId) => [.. chunks.Where(c => c.MessageId == messageId)];

    public GenerationFinished? FinishedOf(Guid messageId) => finished.FirstOrDefault(f => f.MessageId == messageId);

    public IReadOnlyList<GenerationFinished> AllFinishedOf(Guid messageId) => [.. finished.Where(f => f.MessageId == messageId)];

    public async Task<GenerationFinished> WaitForFinishedAsync(Guid messageId, TimeSpan? timeout = null)
    {
        try
        {
            await Wait.UntilAsync(() => FinishedOf(messageId) is not null, timeout ?? Wait.Default, $"GenerationFinished for {messageId} did not arrive");
        }
        catch (TimeoutException e)
        {
            var chunks = ChunksOf(messageId);
            var started = Started.Any(s => s.MessageId == messageId) ? "GenerationStarted received" : "no GenerationStarted";
            throw new TimeoutException($"{e.Message}; meanwhile: {started}, {chunks.Count} chunks (last sequence {(chunks.Count == 0 ? "none" : chunks.Max(c => c.Sequence))}), connection {Connection.State}", e);
        }

        return FinishedOf(messageId)!;
    }

    /// <summary>The deltas of the answer's chunks, joined in the order received.</summary>
    public string TextOf(Guid messageId) => string.Concat(ChunksOf(messageId).Select(c => c.Delta));

    /// <summary>Waits until the chunks received spell <paramref name="text"/> (however many chunks that took).</summary>
    public Task WaitForTextAsync(Guid messageId, string text, TimeSpan? timeout = null) =>
        Wait.UntilAsync(() => TextOf(messageId).Length >= text.Length, timeout ?? Wait.Default, $"the text of {messageId} did not arrive whole");

    public Task WaitForChunksAsync(Guid messageId, int count, TimeSpan? timeout = null) =>
        Wait.UntilAsync(() => ChunksOf(messageId).Count >= count, timeout ?? Wait.Default, $"{count} chunks of {messageId} did not arrive");

    public async ValueTask DisposeAsync() => await Connection.DisposeAsync();
}
