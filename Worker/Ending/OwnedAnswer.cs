namespace ChatStreaming.Worker.Ending;

/// <summary>What an instance knows of an answer it owns, enough to re-create its state in Redis if Redis lost it.</summary>
internal sealed record OwnedAnswer(Guid MessageId, Guid ConversationId, Guid UserMessageId, string OwnerId);
