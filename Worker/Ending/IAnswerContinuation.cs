namespace ChatStreaming.Worker.Ending;

/// <summary>
/// Carries on an answer this instance took over from a stopped one (<see cref="OrphanClaim.Continuation"/>): the
/// generator resumes the model and appends after the replay buffer's last chunk. Implemented by the generation room
/// (which depends on this one, not the other way round).
/// </summary>
internal interface IAnswerContinuation
{
    /// <summary>Queues the takeover; false when this instance cannot take it now (its queue is full or it is stopping).</summary>
    Task<bool> TryContinueAsync(OrphanClaim claim, CancellationToken cancellationToken);
}
