namespace ChatStreaming.Contracts;

/// <summary>
/// The ids of the saved user message and of its answer. <see cref="Status"/> is the answer's status when the call
/// returned: <c>streaming</c> for a new send; for a repeated send (same clientMessageId) whatever the first one's answer
/// is now, so a client that lost the first reply knows whether to wait for chunks or read the saved answer.
/// </summary>
public sealed record SendMessageResult(Guid UserMessageId, Guid AssistantMessageId, MessageStatus Status = MessageStatus.Streaming);
