using ChatStreaming.Contracts;
using Microsoft.Extensions.Logging;

namespace ChatStreaming.Worker;

/// <summary>The worker's log events. Never message content or tokens.</summary>
internal static partial class WorkerLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Generator started with {Slots} slots and a queue of {Capacity}")]
    public static partial void GeneratorStarted(ILogger logger, int slots, int capacity);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "Generation of {MessageId} in {ConversationId} started")]
    public static partial void GenerationStarted(ILogger logger, Guid messageId, Guid conversationId);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Generation of {MessageId} in {ConversationId} ended {Status} after {Chunks} chunks from {Deltas} deltas")]
    public static partial void GenerationFinished(ILogger logger, Guid messageId, Guid conversationId, MessageStatus status, long chunks, int deltas);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Relaying chunks of {MessageId} to Redis failed at least once (the chunk was offered again; the answer is saved whole)")]
    public static partial void RelayFailed(ILogger logger, Exception exception, Guid messageId);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Error, Message = "Generation of {MessageId} could not be finished")]
    public static partial void FinishFailed(ILogger logger, Exception exception, Guid messageId);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "Generation of {MessageId} failed around the model call; ending it")]
    public static partial void GenerationFailed(ILogger logger, Exception exception, Guid messageId);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Debug, Message = "Cancel requested for {MessageId}, running here")]
    public static partial void CancelReceived(ILogger logger, Guid messageId);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "Answer {MessageId} was already saved; not saved again")]
    public static partial void AlreadySaved(ILogger logger, Guid messageId);
}
