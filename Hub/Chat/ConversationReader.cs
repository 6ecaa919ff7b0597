using ChatStreaming.Contracts;
using ChatStreaming.Persistence;
using ChatStreaming.Worker;

namespace ChatStreaming.Server.Chat;

/// <summary>
/// Reads a conversation as a client should see it: saved messages from Postgres, and for an answer still streaming,
/// its text so far and last sequence from the Redis replay buffer.
/// </summary>
public sealed class ConversationReader(ChatStore store, ReplayStore replay)
{
    public async Task<IReadOnlyList<Message>> GetMessagesAsync(Guid conversationId, CancellationToken cancellationToken)
    {
        var messages = await store.GetMessagesAsync(conversationId, cancellationToken);
        var result = new List<Message>(messages.Count);
        foreach (var message in messages)
        {
            if (message.Status != MessageStatus.Streaming)
            {
                result.Add(message);
                continue;
            }

            var streamed = await replay.GetStreamedTextAsync(message.Id);
            result.Add(message with { Content = streamed.Content, LastSequence = streamed.LastSequence });
        }

        return result;
    }
}
