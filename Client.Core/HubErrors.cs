using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Client.Core;

public static class HubErrors
{
    private const string Marker = "HubException: ";

    /// <summary>
    /// The server's own words from a failed invocation: SignalR wraps a HubException's text as
    /// "An unexpected error occurred invoking 'X' on the server. HubException: …"; this returns the "…".
    /// </summary>
    public static string Message(HubException exception)
    {
        var at = exception.Message.IndexOf(Marker, StringComparison.Ordinal);
        return at < 0 ? exception.Message : exception.Message[(at + Marker.Length)..];
    }
}
