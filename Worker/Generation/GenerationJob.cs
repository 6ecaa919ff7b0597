using System.Diagnostics;
using ChatStreaming.Worker.Ending;
using ChatStreaming.Worker.Redis;

namespace ChatStreaming.Worker.Generation;

/// <summary>One answer to generate: the user message it answers and the placeholder it fills.</summary>
internal sealed record GenerationJob(Guid ConversationId, Guid UserMessageId, Guid AssistantMessageId, string OwnerId, string Prompt)
{
    /// <summary>The span that asked for it (SendMessage), so the generation's span joins its trace across the channel.</summary>
    public ActivityContext Parent { get; init; } = Activity.Current?.Context ?? default;

    /// <summary>The answer as the registry of owned answers holds it.</summary>
    public OwnedAnswer Answer => new(AssistantMessageId, ConversationId, UserMessageId, OwnerId, Resume?.Epoch ?? 1);

    /// <summary>Set when this is a takeover: the answer goes on after what its replay buffer holds.</summary>
    public ResumePoint? Resume { get; init; }

    /// <summary>The catalog model the send named; null: the conversation's, else the default.</summary>
    public string? Model { get; init; }

    /// <summary>When it was queued (<see cref="Stopwatch.GetTimestamp"/>), for the queue wait metric.</summary>
    public long QueuedAt { get; init; } = Stopwatch.GetTimestamp();
}

/// <summary>
/// Where a taken-over answer resumes: its relay starts <paramref name="From"/> what its replay buffer holds (last
/// sequence, text and parts streamed so far), written under <paramref name="Epoch"/>; a resumable model's stream goes
/// on after <paramref name="ModelContinuation"/> (kept with the buffer's last chunk; null when there is none).
/// </summary>
internal sealed record ResumePoint(ChatStreaming.Worker.Streaming.RelayStart From, long Epoch, byte[]? ModelContinuation = null);
