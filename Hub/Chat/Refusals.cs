using ChatStreaming.Worker.Facade;
using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Server.Chat;

/// <summary>A Worker refusal on the hub's wire: a HubException with its message (safe to show, never a stack trace).</summary>
internal static class Refusals
{
    /// <summary>The value, or the refusal thrown as a <see cref="HubException"/>.</summary>
    public static T OrThrow<T>(this Outcome<T> outcome) =>
        outcome.Refusal is { } refusal ? throw new HubException(refusal.Message) : outcome.Value;

    /// <inheritdoc cref="OrThrow{T}(Outcome{T})"/>
    public static async Task<T> OrThrow<T>(this Task<Outcome<T>> outcome) => (await outcome).OrThrow();
}
