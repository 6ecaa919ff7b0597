using StackExchange.Redis;

namespace ChatStreaming.Worker.Redis;

/// <summary>An answer's Redis names, built once per answer instead of once per chunk.</summary>
internal sealed record AnswerKeys(RedisKey Chunks, RedisKey Generation, RedisValue Events)
{
    public static AnswerKeys For(Guid conversationId, Guid messageId) =>
        new(RedisKeys.Chunks(conversationId, messageId), RedisKeys.Generation(conversationId, messageId), RedisKeys.ConversationEvents(conversationId).ToString());
}
