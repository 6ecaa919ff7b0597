using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Server.Telemetry;

/// <summary>
/// SignalR logs every failed hub invocation at Error with its stack trace — a refused bad call (a
/// <see cref="HubException"/>) included, so any client could flood the log. That category is off
/// (<see cref="TelemetryExtensions"/>); this filter logs what operators need instead: an unexpected failure at Error
/// (<c>HubMethodFailed</c>). A refusal is the client's business, answered with a clear message and not logged.
/// </summary>
public sealed class UnexpectedHubErrorFilter(ILogger<UnexpectedHubErrorFilter> logger) : IHubFilter
{
    /// <summary>The category SignalR logs failed invocations in.</summary>
    public const string DispatcherCategory = "Microsoft.AspNetCore.SignalR.Internal.DefaultHubDispatcher";

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        try
        {
            return await next(invocationContext);
        }
        catch (Exception ex) when (ex is not HubException && !(ex is OperationCanceledException && invocationContext.Context.ConnectionAborted.IsCancellationRequested))
        {
            ServerLog.HubMethodFailed(logger, ex, invocationContext.HubMethodName);
            throw;
        }
    }
}
