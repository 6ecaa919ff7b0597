namespace ChatStreaming.Contracts;

/// <summary>The error texts of the contract: clients may match on them.</summary>
public static class ChatErrors
{
    public const string ConversationNotFound = "conversation not found";
    public const string MessageNotFound = "message not found";
    public const string ReplayUnavailable = "replay unavailable: the replay buffer of this message has expired; read the saved message instead";
    public const string Busy = "busy: the generator queue is full, retry shortly";
}
