namespace ChatStreaming.Server.Chat;

/// <summary>SignalR group names: one group per conversation, across all instances (through the backplane).</summary>
internal static class ChatGroups
{
    public static string Conversation(Guid conversationId) => $"conversation:{conversationId:N}";
}
