using System.ComponentModel.DataAnnotations;

namespace ChatStreaming.Worker;

/// <summary>The <c>Chat</c> section: streaming, replay and generator limits.</summary>
public sealed class ChatStreamingOptions
{
    public const string SectionName = "Chat";

    /// <summary>How long every Redis key the app writes lives (replay buffers, generation state).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00", ErrorMessage = "Chat:ReplayTtl must be a time span between 00:00:01 and 7.00:00:00 (e.g. 01:00:00).")]
    public TimeSpan ReplayTtl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Generations running at once on this instance; more wait in the generator queue.</summary>
    [Range(1, 10_000, ErrorMessage = "Chat:MaxConcurrentGenerations must be between 1 and 10000.")]
    public int MaxConcurrentGenerations { get; set; } = 64;

    /// <summary>Jobs waiting for a generator slot before SendMessage answers "busy".</summary>
    [Range(1, 1_000_000, ErrorMessage = "Chat:GeneratorQueueCapacity must be between 1 and 1000000.")]
    public int GeneratorQueueCapacity { get; set; } = 1_000;

    /// <summary>
    /// What another instance does with an answer whose owner stopped (killed, or silent past its lease):
    /// <see cref="FailoverMode.Continue"/> carries it on to its end under the same message id (the default),
    /// <see cref="FailoverMode.Interrupt"/> ends it interrupted with the text streamed so far.
    /// </summary>
    public FailoverMode Failover { get; set; } = FailoverMode.Continue;

    /// <summary>How long an answer's owner may go silent before another instance takes it over or ends it (renewed every third).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "Chat:GenerationLease must be a time span between 00:00:01 and 00:10:00.")]
    public TimeSpan GenerationLease { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a running answer's state and replay buffer live after their last write (renewed with its lease):
    /// <see cref="ReplayTtl"/>, but never shorter than two leases, so they outlive the gap to the next renewal, however
    /// short Chat:ReplayTtl is. A takeover then finds the whole buffer, and the answer stays cancellable. Once the answer
    /// has ended, <see cref="ReplayTtl"/>.
    /// </summary>
    internal TimeSpan RunningAnswerTtl => ReplayTtl > 2 * GenerationLease ? ReplayTtl : 2 * GenerationLease;

    /// <summary>
    /// On SIGTERM, first: how long the instance keeps serving as usual while /health/ready fails, so load balancers
    /// stop sending it new users before it stops taking answers (then <see cref="ShutdownGrace"/> begins).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00", ErrorMessage = "Chat:DrainDelay must be a time span between 00:00:00 and 00:05:00.")]
    public TimeSpan DrainDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>On SIGTERM: how long running answers may go on before they are ended as interrupted (and saved).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "Chat:ShutdownGrace must be a time span between 00:00:00 and 00:10:00.")]
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Messages <c>JoinConversation</c> returns (the newest), and the most one <c>GetMessages</c> page holds.</summary>
    [Range(1, 1_000, ErrorMessage = "Chat:SnapshotMessages must be between 1 and 1000.")]
    public int SnapshotMessages { get; set; } = 50;

    /// <summary>The most chunks one <c>GetChunks</c> call returns; a client catching up asks again after the last one.</summary>
    [Range(1, 100_000, ErrorMessage = "Chat:MaxChunksPerRead must be between 1 and 100000.")]
    public int MaxChunksPerRead { get; set; } = 1_000;

    /// <summary>Conversations (SignalR groups) one connection may be in at once; a join past it is refused.</summary>
    [Range(1, 10_000, ErrorMessage = "Chat:MaxGroupsPerConnection must be between 1 and 10000.")]
    public int MaxGroupsPerConnection { get; set; } = 100;

    /// <summary>Connections one user may have open at once, across all instances; 0 = no limit.</summary>
    [Range(0, 10_000, ErrorMessage = "Chat:MaxConnectionsPerUser must be between 0 (no limit) and 10000.")]
    public int MaxConnectionsPerUser { get; set; } = 20;

    /// <summary>
    /// A connection whose write has waited this long (its socket is not read, or it never acknowledges) is closed; its
    /// client reconnects and catches up from the replay buffer. Generation never waits for it meanwhile.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "Chat:SlowClientTimeout must be a time span between 00:00:01 and 00:10:00.")]
    public TimeSpan SlowClientTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The longest an answer's relay lets model deltas gather into one chunk while this instance is behind (its chunk
    /// writes wait: its threads wait for a CPU, or its chunks queue for Redis); zero while it keeps up
    /// (<see cref="Streaming.ChunkPacing"/>). 0 = never: every delta is its own chunk unless Redis is slower than the
    /// model. See docs/benchmarks-profile.md, "pacing chunks to the load".
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01", ErrorMessage = "Chat:MaxChunkLinger must be a time span between 00:00:00 (never) and 00:00:01.")]
    public TimeSpan MaxChunkLinger { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Events waiting for one connection at most; past it the connection is closed as too slow (as above).</summary>
    [Range(16, 1_000_000, ErrorMessage = "Chat:MaxQueuedEventsPerConnection must be between 16 and 1000000.")]
    public int MaxQueuedEventsPerConnection { get; set; } = 10_000;

    [Range(1, 1_000_000, ErrorMessage = "Chat:MaxMessageCharacters must be between 1 and 1000000.")]
    public int MaxMessageCharacters { get; set; } = 16_000;

    /// <summary>Answers one user may have running (or queued) at once, across all instances; 0 = no limit.</summary>
    [Range(0, 10_000, ErrorMessage = "Chat:MaxConcurrentGenerationsPerUser must be between 0 (no limit) and 10000.")]
    public int MaxConcurrentGenerationsPerUser { get; set; } = 3;

    /// <summary>
    /// Messages (questions and answers, every branch) one conversation may hold; a send, edit or regenerate past it is
    /// refused (<c>conversation is full</c>), so a conversation's depth, and what its reads and export cost, is bounded.
    /// </summary>
    [Range(2, 1_000_000, ErrorMessage = "Chat:MaxMessagesPerConversation must be between 2 and 1000000.")]
    public int MaxMessagesPerConversation { get; set; } = 10_000;

    /// <summary>Messages one user may send in any 60 s window, across all instances; 0 = no limit.</summary>
    [Range(0, 100_000, ErrorMessage = "Chat:MessagesPerMinutePerUser must be between 0 (no limit) and 100000.")]
    public int MessagesPerMinutePerUser { get; set; } = 30;

    /// <summary>Conversations one user may create per minute (fixed 60 s windows), across all instances; 0 = no limit.</summary>
    [Range(0, 100_000, ErrorMessage = "Chat:ConversationsPerMinutePerUser must be between 0 (no limit) and 100000.")]
    public int ConversationsPerMinutePerUser { get; set; } = 20;

    /// <summary>
    /// Hub reads (list, join, leave, page messages, replay chunks, cancel) one user may make per minute (fixed 60 s
    /// windows), across all instances; 0 = no limit. A client catching up pages through GetChunks: keep it well above
    /// what one reconnect needs.
    /// </summary>
    [Range(0, 1_000_000, ErrorMessage = "Chat:ReadsPerMinutePerUser must be between 0 (no limit) and 1000000.")]
    public int ReadsPerMinutePerUser { get; set; } = 600;

    /// <summary>
    /// SendMessage, RegenerateAnswer and EditMessage calls one user may make per minute (fixed 60 s windows), across all
    /// instances, counted before the call does anything — refused ones too (an unknown conversation, someone else's
    /// message): a loop of bad sends costs one Redis call each, no database work. Admitted sends also count against
    /// <see cref="MessagesPerMinutePerUser"/>. 0 = no limit.
    /// </summary>
    [Range(0, 1_000_000, ErrorMessage = "Chat:SendCallsPerMinutePerUser must be between 0 (no limit) and 1000000.")]
    public int SendCallsPerMinutePerUser { get; set; } = 60;

    /// <summary>REST requests one user may make per minute, per instance (ASP.NET Core's rate limiter); 0 = no limit.</summary>
    [Range(0, 1_000_000, ErrorMessage = "Chat:RestRequestsPerMinutePerUser must be between 0 (no limit) and 1000000.")]
    public int RestRequestsPerMinutePerUser { get; set; } = 120;

    /// <summary>
    /// The catalog model that answers when neither the send nor the conversation names one (a name of
    /// <c>Chat:Models</c>; with the single <c>Chat:Model</c> section, that model's name, default "default").
    /// </summary>
    public string? DefaultModel { get; set; }

    /// <summary>
    /// Tokens (prompt + completion, as the model reported them) each user may use per UTC day, across instances; 0 = no
    /// limit. A send once the budget is spent is refused until midnight UTC; the answer that crosses it finishes.
    /// </summary>
    [Range(0, long.MaxValue, ErrorMessage = "Chat:TokensPerDayPerUser must be 0 (no limit) or more.")]
    public long TokensPerDayPerUser { get; set; }
}

/// <summary>Chat:Failover: what happens to an answer whose instance stopped.</summary>
public enum FailoverMode
{
    /// <summary>Another instance resumes the model and appends after the last chunk in the replay buffer.</summary>
    Continue,

    /// <summary>Another instance ends it interrupted, with the text streamed so far.</summary>
    Interrupt,
}
