namespace ChatStreaming.Worker.Ending;

/// <summary>
/// What an instance knows of an answer it owns, enough to re-create its state in Redis if Redis lost it; its
/// <see cref="Epoch"/> is the ownership's (1 for the instance that started it, one more for each takeover).
/// </summary>
internal sealed record OwnedAnswer(Guid MessageId, Guid ConversationId, Guid UserMessageId, string OwnerId, long Epoch = 1);
