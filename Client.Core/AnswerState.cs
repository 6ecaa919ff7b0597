using System.Text;
using ChatStreaming.Contracts;

namespace ChatStreaming.Client.Core;

/// <summary>
/// One answer as this client has it: text from chunks 1..LastSequence, then the saved text once finished; its parts
/// (text, reasoning, tool calls and results) likewise.
/// </summary>
public sealed class AnswerState(Guid messageId, Guid conversationId)
{
    public Guid MessageId { get; } = messageId;

    public Guid ConversationId { get; } = conversationId;

    public StringBuilder Text { get; } = new();

    /// <summary>Everything it streamed, in order (consecutive text or reasoning joined); the saved parts once finished.</summary>
    public IReadOnlyList<MessagePart> Parts => PartsBuilder.Build();

    internal MessagePartsBuilder PartsBuilder { get; } = new();

    public long LastSequence { get; set; }

    /// <summary>Set when another server carried the answer on after its own stopped: the last sequence before the seam.</summary>
    public long? ResumedFrom { get; internal set; }

    public GenerationFinished? Finished { get; set; }

    /// <summary>How long it reasoned, when its reasoning was seen streaming (first reasoning chunk to the next other one).</summary>
    public TimeSpan? ThoughtFor { get; internal set; }

    internal double? ReasoningFrom { get; set; }

    /// <summary>The catalog model that answered (known once it ended).</summary>
    public string? Model => Finished?.Model;

    /// <summary>Quiet, and not in the snapshot of its conversation's shown branch: the watchdog leaves it alone.</summary>
    internal bool OffBranch { get; set; }

    /// <summary>When this client last heard of the answer (a chunk, a snapshot, its start).</summary>
    public DateTimeOffset LastHeard { get; set; } = DateTimeOffset.UtcNow;
}
