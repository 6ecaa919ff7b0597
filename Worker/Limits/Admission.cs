namespace ChatStreaming.Worker.Limits;

/// <summary>The outcome of <see cref="UserLimiter.AdmitAsync"/>.</summary>
/// <param name="SendId">The send's member in the user's window (<c>c:</c> conversation and client message id, or <c>g:</c> a random id).</param>
/// <param name="Counted">True when this admission added to the counters (so it can be refunded).</param>
/// <param name="RetryAfter">When refused: how long to wait before trying again.</param>
internal readonly record struct Admission(AdmissionResult Result, string SendId, bool Counted, TimeSpan RetryAfter)
{
    /// <summary>Its key was admitted within the window: a retry, admitted without counting (see <see cref="UserLimiter.AdmitAsync"/>).</summary>
    public bool SeenBefore { get; init; }

    /// <summary>This admission added the send to the user's window (false: a twin of the same send had, first).</summary>
    public bool AddedSend { get; init; }

    /// <summary>This admission added <see cref="Reservation"/> (false: a twin of the same send holds it).</summary>
    public bool AddedReservation { get; init; }

    /// <summary>The member holding the user's place among running answers until the answer is registered.</summary>
    public string Reservation => "r:" + SendId;
}
