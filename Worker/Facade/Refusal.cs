namespace ChatStreaming.Worker.Facade;

/// <summary>
/// Why the Worker refused a call, in words a client may read (<see cref="Message"/>, never a stack trace). The hub
/// sends the message as a HubException; REST maps <see cref="Kind"/> to a status and <see cref="Field"/> to the
/// offending parameter.
/// </summary>
public sealed record Refusal(string Message, RefusalKind Kind = RefusalKind.Invalid, string? Field = null)
{
    public static Refusal NotFound(string message) => new(message, RefusalKind.NotFound);

    public static Refusal Invalid(string field, string message) => new(message, RefusalKind.Invalid, field);
}
