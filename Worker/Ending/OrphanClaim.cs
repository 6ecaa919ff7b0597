using ChatStreaming.Contracts;

namespace ChatStreaming.Worker.Ending;

/// <summary>
/// What an orphan sweep won: the status (and error) to end the answer with, or — <see cref="Continuation"/> set, status
/// streaming — the answer itself, now owned by this instance under the next epoch, to carry on. Either way with the
/// catalog model its send named, if any; when the claim itself ended it, whom to charge and under which ownership; when
/// its instance had decided its end (and never saved it), the usage that instance counted.
/// </summary>
internal sealed record OrphanClaim(
    MessageStatus Status, string? Error, OwnedAnswer? Continuation = null, string? Model = null, AnswerCharge? ChargeTo = null, TokenUsage? Usage = null);

/// <summary>The user an answer's tokens count against, and the ownership (epoch) that counts them.</summary>
internal sealed record AnswerCharge(string OwnerId, long Epoch);
