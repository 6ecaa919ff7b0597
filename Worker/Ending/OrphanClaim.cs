using ChatStreaming.Contracts;

namespace ChatStreaming.Worker.Ending;

/// <summary>
/// What an orphan sweep won: the status (and error) to end the answer with, or — <see cref="Continuation"/> set, status
/// streaming — the answer itself, now owned by this instance under the next epoch, to carry on. Either way with the
/// catalog model its send named, if any (whose client cancels the answer's background response when it ends here), and
/// when the claim itself ended it, the user who owns it, whose budget its tokens were never counted against.
/// </summary>
internal sealed record OrphanClaim(MessageStatus Status, string? Error, OwnedAnswer? Continuation = null, string? Model = null, string? ChargeTo = null);
