using StackExchange.Redis;

namespace ChatStreaming.Worker.Redis;

/// <summary>
/// Every Redis key and channel the app uses (the SignalR backplane's channels use <see cref="BackplanePrefix"/>).
/// Hash tags (what Redis Cluster hashes to pick a key's slot): everything of a conversation's answers — their state,
/// replay buffer, lost marker — and the conversation's event channel share <c>{c:&lt;conversationId&gt;}</c>, so the
/// script that appends a chunk and publishes it touches one slot; everything of a user shares <c>{u:&lt;userId&gt;}</c>.
/// Invariant: every key written here is given a TTL: the replay TTL (1 h by default) or less, but for a day's token
/// counter, which lives two days (the budget of the day before stays readable across midnight).
/// </summary>
public static class RedisKeys
{
    public const string Prefix = "chatstreaming";
    public const string BackplanePrefix = Prefix + ":backplane";

    /// <summary>
    /// Hash: <c>conversation</c>, <c>userMessage</c>, <c>owner</c> (the user id), <c>instance</c> (the id of the hub
    /// instance generating it), <c>status</c>, and once set <c>cancel</c> (1 = a cancel was requested), <c>ended</c>
    /// (Unix ms the status was decided), <c>error</c> and <c>deleted</c> (its conversation was deleted: the answer is unknown). Its TTL is renewed while the answer runs, so it stays cancellable.
    /// </summary>
    public static RedisKey Generation(Guid conversationId, Guid messageId) => $"{Prefix}:{ConversationTag(conversationId)}:msg:{messageId:N}:gen";

    /// <summary>The hash tag of a conversation's keys and channel.</summary>
    private static string ConversationTag(Guid conversationId) => $"{{c:{conversationId:N}}}";

    /// <summary>The hash tag of a user's keys.</summary>
    private static string UserTag(string userId) => $"{{u:{userId}}}";

    /// <summary>
    /// String: the conversation of an answer (its id, "N" format), so a call that names only the answer (GetChunks,
    /// CancelGeneration) finds its keys. Written when the answer is registered, with the state's TTL.
    /// </summary>
    public static RedisKey AnswerConversation(Guid messageId) => $"{Prefix}:msg:{{m:{messageId:N}}}:conversation";

    /// <summary>
    /// Stream: the answer's replay buffer. Chunk n is the entry with id <c>0-n</c>, fields <c>d</c> (delta) and
    /// <c>t</c> (emitted at, Unix ms), so a sequence is written once and read back from any point with XRANGE.
    /// </summary>
    public static RedisKey Chunks(Guid conversationId, Guid messageId) => $"{Prefix}:{ConversationTag(conversationId)}:msg:{messageId:N}:chunks";

    /// <summary>How many shards the lease index has (a fixed number: each sweep walks all of them).</summary>
    public const int LeaseShards = 16;

    /// <summary>
    /// Sorted set, one of <see cref="LeaseShards"/>: answers not yet ended (queued or running) whose conversation falls
    /// in this shard, member <see cref="LeaseMember"/>, scored by when the lease expires (Unix ms). An index for the
    /// sweepers: the lease itself is the <c>lease</c> field of the answer's state. Each shard has a hash tag of its own,
    /// so on a cluster the shards spread over the masters.
    /// </summary>
    public static RedisKey LeaseIndexShard(int shard) => $"{Prefix}:leases:{{l:{shard}}}";

    /// <summary>The lease index shard of a conversation's answers.</summary>
    public static RedisKey LeaseIndex(Guid conversationId) => LeaseIndexShard((int)(BitConverter.ToUInt32(conversationId.ToByteArray(), 0) % LeaseShards));

    /// <summary>An answer in the lease index and in <see cref="UserActive"/>: its conversation and its id ("N" format), so a sweep finds its keys.</summary>
    public static string LeaseMember(Guid conversationId, Guid messageId) => $"{conversationId:N}:{messageId:N}";

    /// <summary>The answer a <see cref="LeaseMember"/> names.</summary>
    public static (Guid ConversationId, Guid MessageId) ParseLeaseMember(string member) =>
        (Guid.ParseExact(member.AsSpan(0, 32), "N"), Guid.ParseExact(member.AsSpan(33), "N"));

    /// <summary>String: an instance's heartbeat (its start time), alive for one lease unless renewed. See <see cref="InstanceIdentity"/>.</summary>
    public static RedisKey Instance(string instanceId) => InstancePrefix + instanceId;

    /// <summary>The prefix of <see cref="Instance"/> (scripts build the key from an answer's <c>instance</c> field).</summary>
    public const string InstancePrefix = Prefix + ":instance:";

    /// <summary>
    /// String: when a sweep first found the answer "streaming" in Postgres with no trace in Redis (Unix ms). Redis lost
    /// its data (a restart): the answer is claimed only if no live instance re-created its state within a grace.
    /// </summary>
    public static RedisKey Lost(Guid conversationId, Guid messageId) => $"{Prefix}:{ConversationTag(conversationId)}:msg:{messageId:N}:lost";

    /// <summary>
    /// A conversation being deleted (or deleted): set before its messages are listed for forgetting, so a send that
    /// raced the delete cannot register its answer afterwards (<see cref="Ending.GenerationScripts.Register"/> refuses).
    /// </summary>
    public static RedisKey ConversationDeleted(Guid conversationId) => $"{Prefix}:{ConversationTag(conversationId)}:deleted";

    /// <summary>Sorted set: the user's sends in the last minute (member = conversation and client message id, or a random id; score = Unix ms).</summary>
    public static RedisKey UserSends(string userId) => $"{Prefix}:user:{UserTag(userId)}:sends";

    /// <summary>
    /// Sorted set: the user's answers not yet ended (member = <see cref="LeaseMember"/>, scored by their lease expiry) and
    /// admissions not yet registered (member = <c>r:</c> + send id, scored by when the reservation lapses): each counts
    /// while its score is in the future (Unix ms).
    /// </summary>
    public static RedisKey UserActive(string userId) => $"{Prefix}:user:{UserTag(userId)}:active";

    /// <summary>Tokens the user's answers used on one UTC day (yyyyMMdd), for Chat:TokensPerDayPerUser; lives two days.</summary>
    public static RedisKey UserTokens(string userId, DateOnly day) => $"{Prefix}:user:{UserTag(userId)}:tokens:{day:yyyyMMdd}";

    /// <summary>
    /// Hash: what each of the user's answers counted in <see cref="UserTokens"/> that day (field: message id, "N"
    /// format; value: "epoch:tokens"), so an answer counted again replaces its count instead of adding to it.
    /// </summary>
    public static RedisKey UserTokenCharges(string userId, DateOnly day) => $"{Prefix}:user:{UserTag(userId)}:tokens:{day:yyyyMMdd}:answers";

    /// <summary>String: how many calls of one kind (<c>conversations</c>, <c>reads</c>) the user made in the current 60 s window.</summary>
    public static RedisKey UserCalls(string userId, string kind) => $"{Prefix}:user:{UserTag(userId)}:calls:{kind}";

    /// <summary>Sorted set: the user's open connections, all instances (member = connection id, score = when it lapses unless renewed, Unix ms).</summary>
    public static RedisKey UserConnections(string userId) => $"{Prefix}:user:{UserTag(userId)}:connections";

    /// <summary>
    /// Pub/sub: everything sent to a conversation's connections (its user messages, and its answers' start, chunks and
    /// end), encoded by <see cref="Streaming.ConversationEvent"/>. Every instance with a connection in the conversation subscribes
    /// (<see cref="Streaming.ConversationSubscriptions"/>); a chunk is published by the script that writes it to the replay buffer.
    /// </summary>
    public static RedisChannel ConversationEvents(Guid conversationId) => RedisChannel.Literal($"{Prefix}:{ConversationTag(conversationId)}:events");

    /// <summary>Pub/sub: message ids whose generation must stop, whichever instance runs it.</summary>
    public static readonly RedisChannel Cancellations = RedisChannel.Literal($"{Prefix}:cancel");
}
