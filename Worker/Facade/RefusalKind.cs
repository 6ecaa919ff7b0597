namespace ChatStreaming.Worker.Facade;

/// <summary>What kind of refusal: REST's status code follows it (404, 400, 429, 503).</summary>
public enum RefusalKind
{
    /// <summary>Unknown, or another user's: the two are never told apart.</summary>
    NotFound,

    /// <summary>An argument out of its range.</summary>
    Invalid,

    /// <summary>A per-user limit or budget; the message says when to retry.</summary>
    RateLimited,

    /// <summary>The instance cannot take it now (its queue is full, or it is stopping).</summary>
    Busy,
}
