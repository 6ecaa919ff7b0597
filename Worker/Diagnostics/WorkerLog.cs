using ChatStreaming.Contracts;
using Microsoft.Extensions.Logging;

namespace ChatStreaming.Worker.Diagnostics;

/// <summary>
/// Every log event of the worker (ids 1000–1099), each with an id and a name that alerts can key on
/// (docs/operations.md). Never message content, prompts, tokens or keys.
/// </summary>
internal static partial class WorkerLog
{
    [LoggerMessage(EventId = 1000, EventName = "GeneratorStarted", Level = LogLevel.Information, Message = "Generator started with {Slots} slots and a queue of {Capacity}")]
    public static partial void GeneratorStarted(ILogger logger, int slots, int capacity);

    [LoggerMessage(EventId = 1001, EventName = "GenerationStarted", Level = LogLevel.Debug, Message = "Generation of {MessageId} in {ConversationId} started")]
    public static partial void GenerationStarted(ILogger logger, Guid messageId, Guid conversationId);

    [LoggerMessage(EventId = 1002, EventName = "GenerationFinished", Level = LogLevel.Information, Message = "Generation of {MessageId} in {ConversationId} ended {Status} after {Chunks} chunks from {Deltas} deltas")]
    public static partial void GenerationFinished(ILogger logger, Guid messageId, Guid conversationId, MessageStatus status, long chunks, int deltas);

    [LoggerMessage(EventId = 1004, EventName = "RelayFailed", Level = LogLevel.Warning, Message = "Relaying chunks of {MessageId} to Redis failed at least once (the chunk was offered again; the answer is saved whole)")]
    public static partial void RelayFailed(ILogger logger, Exception exception, Guid messageId);

    [LoggerMessage(EventId = 1005, EventName = "FinishFailed", Level = LogLevel.Error, Message = "Generation of {MessageId} could not be finished")]
    public static partial void FinishFailed(ILogger logger, Exception exception, Guid messageId);

    [LoggerMessage(EventId = 1006, EventName = "CancelReceived", Level = LogLevel.Debug, Message = "Cancel requested for {MessageId}, running here")]
    public static partial void CancelReceived(ILogger logger, Guid messageId);

    [LoggerMessage(EventId = 1007, EventName = "AlreadySaved", Level = LogLevel.Information, Message = "Answer {MessageId} was already saved; not saved again")]
    public static partial void AlreadySaved(ILogger logger, Guid messageId);

    [LoggerMessage(EventId = 1008, EventName = "GenerationFailed", Level = LogLevel.Warning, Message = "Generation of {MessageId} failed around the model call; ending it")]
    public static partial void GenerationFailed(ILogger logger, Exception exception, Guid messageId);

    [LoggerMessage(EventId = 1009, EventName = "AnswerEndedElsewhere", Level = LogLevel.Warning, Message = "Answer {MessageId} was ended by another instance (this one was taken for gone); its generation stops here")]
    public static partial void EndedElsewhere(ILogger logger, Guid messageId);

    [LoggerMessage(EventId = 1011, EventName = "GenerationStartNotAnnounced", Level = LogLevel.Warning, Message = "GenerationStarted for {MessageId} could not be published (Redis); the answer goes on")]
    public static partial void StartNotAnnounced(ILogger logger, Exception exception, Guid messageId);

    // The kind and HTTP status only: provider error texts can echo parts of the key.
    [LoggerMessage(EventId = 1010, EventName = "ModelCallFailed", Level = LogLevel.Warning, Message = "Model call failed: {Kind} (HTTP {Status})")]
    public static partial void ModelError(ILogger logger, string kind, int? status);

    [LoggerMessage(EventId = 1020, EventName = "OrphanRecovered", Level = LogLevel.Warning, Message = "Answer {MessageId} in {ConversationId} was orphaned by a stopped instance (or never saved by it); saved as {Status} after {Chunks} chunks")]
    public static partial void OrphanRecovered(ILogger logger, Guid messageId, Guid conversationId, MessageStatus status, long chunks);

    [LoggerMessage(EventId = 1021, EventName = "SweepFailed", Level = LogLevel.Warning, Message = "Orphan sweep failed; retrying next tick")]
    public static partial void SweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1022, EventName = "OrphanRecoveryFailed", Level = LogLevel.Warning, Message = "Ending orphaned answer {MessageId} failed; retrying next sweep")]
    public static partial void RecoveryFailed(ILogger logger, Exception exception, Guid messageId);

    [LoggerMessage(EventId = 1039, EventName = "CancelPollFailed", Level = LogLevel.Error, Message = "Reading the cancel flags of this instance's answers failed; retrying next tick")]
    public static partial void CancelPollFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1040, EventName = "GeneratorSlotFailed", Level = LogLevel.Error, Message = "Generating {MessageId} threw out of the generator; its slot takes the next job")]
    public static partial void SlotFailed(ILogger logger, Exception exception, Guid messageId);

    [LoggerMessage(EventId = 1023, EventName = "LeaseRenewalFailed", Level = LogLevel.Warning, Message = "Renewing this instance's heartbeat and leases failed; retrying next tick")]
    public static partial void RenewalFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1030, EventName = "LocalDeliveryFailed", Level = LogLevel.Debug, Message = "Writing {Method} to a connection on this instance failed (it is closing); the others still get it")]
    public static partial void LocalDeliveryFailed(ILogger logger, Exception exception, string method);

    [LoggerMessage(EventId = 1032, EventName = "SlowClientClosed", Level = LogLevel.Warning, Message = "Connection {ConnectionId} was closed: {Reason}; its client reconnects and catches up from the replay buffer")]
    public static partial void SlowClientClosed(ILogger logger, string connectionId, string reason);

    [LoggerMessage(EventId = 1033, EventName = "ChunksWrittenBack", Level = LogLevel.Warning, Message = "Redis had lost {Count} chunks of answer {MessageId} (sequences {From}..{To}, after a connection failure or failover); written back from memory")]
    public static partial void ChunksWrittenBack(ILogger logger, int count, long from, long to, Guid messageId);

    [LoggerMessage(EventId = 1034, EventName = "WriteBackFailed", Level = LogLevel.Warning, Message = "Checking the replay buffer {Key} after a Redis failure failed at the answer's end; a client resuming it may find the buffer short (the saved answer is whole)")]
    public static partial void WriteBackFailed(ILogger logger, Exception exception, string key);

    [LoggerMessage(EventId = 1035, EventName = "Fenced", Level = LogLevel.Warning, Message = "Answer {MessageId} was taken over by another instance while this one was silent (its epoch {Epoch} is stale): this instance adds nothing to it and ends nothing")]
    public static partial void Fenced(ILogger logger, Guid messageId, long epoch);

    [LoggerMessage(EventId = 1036, EventName = "AnswerTakenOver", Level = LogLevel.Warning, Message = "Answer {MessageId} in {ConversationId} lost its instance; carried on here after sequence {FromSequence}")]
    public static partial void AnswerTakenOver(ILogger logger, Guid messageId, Guid conversationId, long fromSequence);

    [LoggerMessage(EventId = 1037, EventName = "BackgroundResponseCancelled", Level = LogLevel.Debug, Message = "The background response of an answer that ended without it was cancelled at the provider (model {Model})")]
    public static partial void BackgroundResponseCancelled(ILogger logger, string model);

    [LoggerMessage(EventId = 1038, EventName = "BackgroundResponseNotCancelled", Level = LogLevel.Warning, Message = "The background response of an answer that ended without it could not be cancelled at the provider (model {Model}, HTTP {Status}): it may run to its end there")]
    public static partial void BackgroundResponseNotCancelled(ILogger logger, string model, int? status);

    [LoggerMessage(EventId = 1031, EventName = "TokensNotCounted", Level = LogLevel.Warning, Message = "The tokens of answer {MessageId} were not counted against its owner's daily budget: Redis could not be reached")]
    public static partial void TokensNotCounted(ILogger logger, Exception exception, Guid messageId);

    [LoggerMessage(EventId = 2011, EventName = "SendStepFailed", Level = LogLevel.Warning, Message = "SendMessage: {Step} failed (backplane); the send goes on")]
    public static partial void SendStepFailed(ILogger logger, Exception exception, string step);

    [LoggerMessage(EventId = 2013, EventName = "ConnectionRenewalFailed", Level = LogLevel.Warning, Message = "Renewing this instance's per-user connection counts failed; retrying next tick")]
    public static partial void ConnectionRenewalFailed(ILogger logger, Exception exception);
}
