namespace ChatStreaming.Contracts;

/// <summary>The error texts of the contract: clients may match on them.</summary>
public static class ChatErrors
{
    public const string ConversationNotFound = "conversation not found";
    public const string MessageNotFound = "message not found";
    public const string ReplayUnavailable = "replay unavailable: the replay buffer of this message has expired; read the saved message instead";
    public const string Busy = "busy: the generator queue is full, retry shortly";
    public const string Unavailable = "unavailable: the streaming store (Redis) cannot be reached, retry shortly";

    /// <summary>"conversation is full: …": a send, edit or regenerate would pass Chat:MaxMessagesPerConversation.</summary>
    public static string ConversationFull(int maxMessages) =>
        $"conversation is full: at most {maxMessages.ToString(System.Globalization.CultureInfo.InvariantCulture)} messages; start a new conversation";

    /// <summary>The reason of the token-budget refusal (Chat:TokensPerDayPerUser): "rate limited, retry after N s: token budget".</summary>
    public const string TokenBudget = "token budget";

    /// <summary>"unknown model 'x' (models: a, b)": the name is not in the catalog (ListModels).</summary>
    public static string UnknownModel(string model, IEnumerable<string> known) =>
        $"unknown model '{(model.Length > 64 ? model[..64] + "…" : model)}' (models: {string.Join(", ", known)})";

    /// <summary>Every per-user limit refusal starts with this; the number of seconds to wait follows.</summary>
    public const string RateLimitedPrefix = "rate limited, retry after ";

    /// <summary>A wait as the whole seconds a client is told (at least 1): the N of <see cref="RateLimited(int, string)"/> and of Retry-After.</summary>
    public static int RetryAfterSeconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));

    /// <summary>"rate limited, retry after N s: why", N = <see cref="RetryAfterSeconds"/> of <paramref name="wait"/>.</summary>
    public static string RateLimited(TimeSpan wait, string reason) => RateLimited(RetryAfterSeconds(wait), reason);

    /// <summary>"rate limited, retry after N s: why" (N ≥ 1, whole seconds).</summary>
    public static string RateLimited(int retryAfterSeconds, string reason) =>
        $"{RateLimitedPrefix}{retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)} s: {reason}";
}
