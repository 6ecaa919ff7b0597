using StackExchange.Redis;

namespace ChatStreaming.Worker.Redis;

/// <summary>
/// An answer's Redis names, built once per answer instead of once per chunk, and the <see cref="Epoch"/> of the ownership
/// writing it: the append script refuses a writer whose epoch is not the answer's current one (a successor took it over).
/// </summary>
internal sealed record AnswerKeys(RedisKey Chunks, RedisKey Generation, RedisValue Events, long Epoch)
{
    public static AnswerKeys For(Guid conversationId, Guid messageId, long epoch = 1) =>
        new(RedisKeys.Chunks(conversationId, messageId), RedisKeys.Generation(conversationId, messageId), RedisKeys.ConversationEvents(conversationId).ToString(), epoch);
}
