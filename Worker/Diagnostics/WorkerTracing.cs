using System.Diagnostics;

namespace ChatStreaming.Worker.Diagnostics;

/// <summary>
/// The app's spans (ActivitySource <see cref="SourceName"/>): chat.send_message → chat.generation → chat.model and
/// chat.save, all tagged with the conversation and message ids, so one trace follows an answer across the channel.
/// </summary>
public static class WorkerTracing
{
    public const string SourceName = "ChatStreaming";

    /// <summary>
    /// The OpenTelemetry GenAI spans (<c>chat {model}</c>) and metrics (<c>gen_ai.client.operation.duration</c>,
    /// <c>gen_ai.client.token.usage</c>) Microsoft.Extensions.AI emits around every model call: source and meter name.
    /// </summary>
    public const string GenAISourceName = "ChatStreaming.GenAI";
    public const string ConversationIdTag = "chat.conversation_id";
    public const string MessageIdTag = "chat.message_id";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>A span of this answer (a child of <paramref name="parent"/> when given, else of the current span).</summary>
    public static Activity? StartAnswerSpan(string name, Guid conversationId, Guid messageId, ActivityContext parent = default)
    {
        var activity = Source.StartActivity(name, ActivityKind.Internal, parent);
        activity?.SetTag(ConversationIdTag, conversationId.ToString());
        activity?.SetTag(MessageIdTag, messageId.ToString());
        return activity;
    }
}
