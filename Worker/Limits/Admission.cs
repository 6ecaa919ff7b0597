namespace ChatStreaming.Worker.Limits;

/// <summary>The outcome of <see cref="UserLimiter.AdmitAsync"/>.</summary>
/// <param name="SendId">The send's member in the user's window (<c>c:</c> conversation and client message id, or <c>g:</c> a random id).</param>
/// <param name="RetryAfter">When refused: how long to wait before trying again.</param>
internal readonly record struct Admission(AdmissionResult Result, string SendId, TimeSpan RetryAfter)
{
    /// <summary>Its key was admitted within the window: a retry, admitted without counting (see <see cref="UserLimiter.AdmitAsync"/>).</summary>
    public bool SeenBefore { get; init; }

    /// <summary>
    /// This admission added the send to the user's window (false: not admitted, not counting, or a twin of the same send
    /// had, first). What it added is what a refund gives back.
    /// </summary>
    public bool AddedSend { get; init; }

    /// <summary>This admission added <see cref="Reservation"/> (false: a twin of the same send holds it).</summary>
    public bool AddedReservation { get; init; }

    /// <summary>The member holding the user's place among running answers until the answer is registered.</summary>
    public string Reservation => "r:" + SendId;
}
