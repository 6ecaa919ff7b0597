using ChatStreaming.Contracts;
using ChatStreaming.Worker.Generation;
using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Server.Chat;

/// <summary>Generation events to a conversation's group; the Redis backplane carries them to every instance.</summary>
internal sealed class HubChatBroadcaster(IHubContext<ChatHub, IChatHubClient> hub) : IChatBroadcaster
{
    public Task GenerationStartedAsync(GenerationStarted started) =>
        hub.Clients.Group(ChatGroups.Conversation(started.ConversationId)).GenerationStarted(started);

    public Task ChunkAsync(Chunk chunk) =>
        hub.Clients.Group(ChatGroups.Conversation(chunk.ConversationId)).ReceiveChunk(chunk);

    public Task GenerationFinishedAsync(GenerationFinished finished) =>
        hub.Clients.Group(ChatGroups.Conversation(finished.ConversationId)).GenerationFinished(finished);
}
