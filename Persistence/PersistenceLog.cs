using Microsoft.Extensions.Logging;

namespace ChatStreaming.Persistence;

/// <summary>Every log event of the persistence layer (ids 100–199), each with an id and a name that alerts can key on.</summary>
internal static partial class PersistenceLog
{
    [LoggerMessage(EventId = 100, EventName = "Migration", Level = LogLevel.Debug, Message = "Migration: {Text}")]
    public static partial void Migration(ILogger logger, string text);

    [LoggerMessage(EventId = 101, EventName = "MigrationWarning", Level = LogLevel.Warning, Message = "Migration: {Text}")]
    public static partial void MigrationWarning(ILogger logger, string text);

    [LoggerMessage(EventId = 102, EventName = "MigrationFailed", Level = LogLevel.Error, Message = "Migration: {Text}")]
    public static partial void MigrationError(ILogger logger, string text);

    [LoggerMessage(EventId = 110, EventName = "PostgresRetrying", Level = LogLevel.Warning, Message = "Postgres unavailable ({Error}); attempt {Attempt} in {DelayMs:0} ms")]
    public static partial void Retrying(ILogger logger, int attempt, double delayMs, string? error);
}
