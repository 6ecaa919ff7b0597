using ChatStreaming.Contracts;
using StackExchange.Redis;

namespace ChatStreaming.Worker.Redis;

/// <summary>What Redis knows of an answer while its generation state lives (<see cref="RedisKeys.Generation"/>).</summary>
internal sealed record GenerationInfo(Guid MessageId, Guid ConversationId, Guid UserMessageId, string OwnerId, MessageStatus Status)
{
    /// <summary>The state read from its hash, or null when the hash is gone or partial.</summary>
    internal static GenerationInfo? FromHash(Guid messageId, HashEntry[] fields)
    {
        if (fields.Length == 0)
        {
            return null;
        }

        var map = fields.ToDictionary(f => (string)f.Name!, f => (string)f.Value!);
        if (!map.TryGetValue("conversation", out var conversation) || !map.TryGetValue("owner", out var owner))
        {
            return null; // a partial hash (recreated after a Redis restart) proves nothing about ownership
        }

        if (map.ContainsKey("deleted"))
        {
            return null; // its conversation was deleted: unknown, like its saved messages
        }

        return new GenerationInfo(
            messageId,
            Guid.Parse(conversation),
            Guid.Parse(map["userMessage"]),
            owner,
            MessageStatusNames.ParseStatus(map["status"]));
    }
}
