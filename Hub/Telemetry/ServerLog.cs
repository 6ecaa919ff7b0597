namespace ChatStreaming.Server.Telemetry;

/// <summary>Every log event of the hub host (ids 2000–2099), each with an id and a name that alerts can key on.</summary>
internal static partial class ServerLog
{
    [LoggerMessage(EventId = 2010, EventName = "HubRedisUnavailable", Level = LogLevel.Warning, Message = "Hub method {Method} failed: Redis unavailable")]
    public static partial void RedisUnavailable(ILogger logger, Exception exception, string method);

    [LoggerMessage(EventId = 2001, EventName = "HubMethodFailed", Level = LogLevel.Error, Message = "Hub method {Method} failed unexpectedly; the client got SignalR's generic error")]
    public static partial void HubMethodFailed(ILogger logger, Exception exception, string method);

    [LoggerMessage(EventId = 2012, EventName = "TooManyConnections", Level = LogLevel.Warning, Message = "A connection of user {UserId} was closed: the user has Chat:MaxConnectionsPerUser ({Limit}) open")]
    public static partial void TooManyConnections(ILogger logger, string userId, int limit);

    [LoggerMessage(EventId = 2015, EventName = "CallLimitCountedLocally", Level = LogLevel.Warning, Message = "Redis unavailable: per-user call limits are counted by this instance alone (latest call: {Method}); at most one such warning every 30 s")]
    public static partial void CallLimitCountedLocally(ILogger logger, string method);

    [LoggerMessage(EventId = 2014, EventName = "ConnectionNotCounted", Level = LogLevel.Warning, Message = "A connection was accepted without counting it against Chat:MaxConnectionsPerUser: Redis unavailable")]
    public static partial void ConnectionNotCounted(ILogger logger, Exception exception);
}
