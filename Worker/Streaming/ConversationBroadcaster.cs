using ChatStreaming.Contracts;
using ChatStreaming.Worker.Redis;
using StackExchange.Redis;

namespace ChatStreaming.Worker.Streaming;

/// <summary>
/// A conversation's events: published on <see cref="RedisKeys.ConversationEvents"/> for the other instances, and written
/// straight to this instance's members (no Redis round trip, no echo: <see cref="ConversationSubscriptions"/> skips
/// what this instance published). The SignalR backplane is not on this path.
/// Invariant: an event goes to the local members only after Redis took it, so a local client is never ahead of the
/// replay buffer or of the other instances' clients by more than the publish itself.
/// </summary>
internal sealed class ConversationBroadcaster(
    IConnectionMultiplexer redis,
    ChunkWriter writer,
    ConversationSubscriptions subscriptions,
    InstanceIdentity instance,
    RedisTopology topology) : IChatBroadcaster
{
    public Task MessageAddedAsync(Message message) =>
        PublishAsync(message.ConversationId, ChatHubMethods.MessageAdded, message, ConversationEvent.Encode(instance.Value, message));

    public Task GenerationStartedAsync(GenerationStarted started) =>
        PublishAsync(started.ConversationId, ChatHubMethods.GenerationStarted, started, ConversationEvent.Encode(instance.Value, started));

    public Task GenerationFinishedAsync(GenerationFinished finished) =>
        PublishAsync(finished.ConversationId, ChatHubMethods.GenerationFinished, finished, ConversationEvent.Encode(instance.Value, finished));

    public Task GenerationResumedAsync(GenerationResumed resumed) =>
        PublishAsync(resumed.ConversationId, ChatHubMethods.GenerationResumed, resumed, ConversationEvent.Encode(instance.Value, resumed));

    public async Task<ChunkWrite> ChunkAsync(AnswerKeys keys, Chunk chunk, byte[]? continuation = null)
    {
        var write = await writer.WriteAsync(keys, chunk, continuation);
        if (write is ChunkWrite.Written or ChunkWrite.Repeated)
        {
            // Written now, or by an earlier try whose reply was lost (then only its local delivery may be missing).
            subscriptions.SendToMembers(chunk.ConversationId, ChatHubMethods.ReceiveChunk, chunk);
        }

        return write;
    }

    private async Task PublishAsync(Guid conversationId, string method, object argument, byte[] payload)
    {
        // Callers send a conversation's events one after the other (each awaited), so Redis relays them in that order.
        await redis.GetSubscriber().PublishAsync(topology.ConversationEvents(conversationId), payload);
        subscriptions.SendToMembers(conversationId, method, argument);
    }
}
