namespace ChatStreaming.Contracts;

/// <summary>The wire names of <see cref="MessageStatus"/> and <see cref="MessageRole"/>, for stores that keep them as text.</summary>
public static class MessageStatusNames
{
    public static string ToWireName(this MessageStatus status) => status switch
    {
        MessageStatus.Streaming => "streaming",
        MessageStatus.Completed => "completed",
        MessageStatus.Cancelled => "cancelled",
        MessageStatus.Failed => "failed",
        MessageStatus.Interrupted => "interrupted",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static MessageStatus ParseStatus(string name) => name switch
    {
        "streaming" => MessageStatus.Streaming,
        "completed" => MessageStatus.Completed,
        "cancelled" => MessageStatus.Cancelled,
        "failed" => MessageStatus.Failed,
        "interrupted" => MessageStatus.Interrupted,
        _ => throw new FormatException($"unknown message status '{name}'"),
    };

    public static string ToWireName(this MessageRole role) => role == MessageRole.User ? "user" : "assistant";

    public static MessageRole ParseRole(string name) => name switch
    {
        "user" => MessageRole.User,
        "assistant" => MessageRole.Assistant,
        _ => throw new FormatException($"unknown message role '{name}'"),
    };
}
