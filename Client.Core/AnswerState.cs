using System.Text;
using ChatStreaming.Contracts;

namespace ChatStreaming.Client.Core;

/// <summary>One answer as this client has it: text from chunks 1..LastSequence, then the saved text once finished.</summary>
public sealed class AnswerState(Guid messageId, Guid conversationId)
{
    public Guid MessageId { get; } = messageId;

    public Guid ConversationId { get; } = conversationId;

    public StringBuilder Text { get; } = new();

    public long LastSequence { get; set; }

    public GenerationFinished? Finished { get; set; }

    /// <summary>When this client last heard of the answer (a chunk, a snapshot, its start).</summary>
    public DateTimeOffset LastHeard { get; set; } = DateTimeOffset.UtcNow;
}
