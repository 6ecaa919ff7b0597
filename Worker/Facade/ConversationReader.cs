using ChatStreaming.Contracts;
using ChatStreaming.Persistence;
using ChatStreaming.Worker.Redis;
using ChatStreaming.Worker.Streaming;

namespace ChatStreaming.Worker.Facade;

/// <summary>
/// Reads a conversation as a client should see it: saved messages from Postgres, and for an answer still streaming,
/// its text so far and last sequence from the Redis replay buffer. When Redis does not answer within a second (paused,
/// failing over), such an answer comes with no text and sequence 0: still true, and a client fetches the rest with
/// GetChunks once chunks flow again. Reading a conversation never waits on Redis longer than that.
/// </summary>
internal sealed class ConversationReader(ChatStore store, ReplayStream replay)
{
    private static readonly TimeSpan RedisWait = TimeSpan.FromSeconds(1);

    /// <summary>A page of the conversation (see <see cref="ChatStore.GetMessagesAsync"/>), streaming answers as far as they got.</summary>
    public async Task<MessagePage> GetMessagesAsync(Guid conversationId, long? beforePosition, int limit, CancellationToken cancellationToken)
    {
        var (messages, hasMoreBefore) = await store.GetMessagesAsync(conversationId, beforePosition, limit, cancellationToken);
        var result = new List<Message>(messages.Count);
        foreach (var message in messages)
        {
            if (message.Status != MessageStatus.Streaming)
            {
                result.Add(message);
                continue;
            }

            try
            {
                var streamed = await replay.GetStreamedTextAsync(conversationId, message.Id).WaitAsync(RedisWait, cancellationToken);
                result.Add(message with { Content = streamed.Content, LastSequence = streamed.LastSequence, Parts = streamed.Parts });
            }
            catch (Exception ex) when (RedisRetries.IsRedisFailure(ex) || ex is TimeoutException) // failed, or our wait ran out
            {
                result.Add(message with { Content = "", LastSequence = 0, Parts = [] });
            }
        }

        return new MessagePage(result, hasMoreBefore);
    }
}
