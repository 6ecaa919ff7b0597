using StackExchange.Redis;

namespace ChatStreaming.Worker;

/// <summary>
/// Every Redis key and channel the app uses (the SignalR backplane's channels use <see cref="BackplanePrefix"/>).
/// Per-message keys share the hash tag {messageId} so a cluster keeps them on one slot (scripts touch both).
/// Invariant: every key written here is given the replay TTL.
/// </summary>
public static class RedisKeys
{
    public const string Prefix = "chatstreaming";
    public const string BackplanePrefix = Prefix + ":backplane";

    /// <summary>Hash: conversation, owner, user message, status, cancel flag, instance.</summary>
    public static RedisKey Generation(Guid messageId) => $"{Prefix}:msg:{{{messageId:N}}}:gen";

    /// <summary>List: the JSON chunks of the answer; chunk n is at index n - 1.</summary>
    public static RedisKey Chunks(Guid messageId) => $"{Prefix}:msg:{{{messageId:N}}}:chunks";

    /// <summary>
    /// Sorted set: every answer not yet ended (queued or running), scored by when its lease expires (Unix ms). The
    /// owning instance renews the score; any instance ends an answer whose lease ran out (its instance died).
    /// </summary>
    public static readonly RedisKey Leases = $"{Prefix}:leases";

    /// <summary>Sorted set: the user's sends in the last minute (member = client message id or a random id, score = Unix ms).</summary>
    public static RedisKey UserSends(string userId) => $"{Prefix}:user:{{{userId}}}:sends";

    /// <summary>
    /// Sorted set: the user's answers not yet ended (member = message id, counted while it is in <see cref="Leases"/>)
    /// and admissions not yet registered (member = <c>r:</c> + send id, counted until their score, Unix ms).
    /// </summary>
    public static RedisKey UserActive(string userId) => $"{Prefix}:user:{{{userId}}}:active";

    /// <summary>Pub/sub: message ids whose generation must stop, whichever instance runs it.</summary>
    public static readonly RedisChannel Cancellations = RedisChannel.Literal($"{Prefix}:cancel");
}
