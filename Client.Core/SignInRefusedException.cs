using System.Net;

namespace ChatStreaming.Client.Core;

/// <summary>The server refused a development token; <see cref="Status"/> is its HTTP status (404: dev tokens are off).</summary>
public sealed class SignInRefusedException(string message, HttpStatusCode status) : InvalidOperationException(message)
{
    public HttpStatusCode Status { get; } = status;
}
