namespace ChatStreaming.Persistence;

/// <summary>
/// What saving a send, an edit or a regeneration came to: the <see cref="Exchange"/> (new, or the first call's when it
/// repeats a client key), or nothing because the conversation or message is not the caller's (<see cref="NotFound"/>) or
/// the conversation has no room for it (<see cref="Full"/>, Chat:MaxMessagesPerConversation).
/// </summary>
public sealed record ExchangeSave(Exchange? Exchange, bool ConversationFull = false)
{
    public static readonly ExchangeSave NotFound = new((Exchange?)null);

    public static readonly ExchangeSave Full = new(null, ConversationFull: true);

    public static implicit operator ExchangeSave(Exchange exchange) => new(exchange);
}
