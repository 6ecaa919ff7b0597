using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>
/// A logging provider for an in-process <see cref="WorkerHost"/>: records each entry's event name and message id, and
/// can be told to throw from the scope of one answer (a faulty provider: the kind of bug the Worker's loops must outlive).
/// </summary>
internal sealed class RecordingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<(string Event, object? MessageId)> entries = new();

    /// <summary>The answer whose logging scope throws (<c>MessageId</c> in the scope's state); null: none.</summary>
    public Guid? ThrowInScopeOf { get; set; }

    public bool Logged(string eventName, Guid? messageId = null) =>
        entries.Any(e => e.Event == eventName && (messageId is null || Equals(e.MessageId, messageId)));

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private static object? Value(object? state, string key) =>
        state is IEnumerable<KeyValuePair<string, object?>> pairs ? pairs.FirstOrDefault(p => p.Key == key).Value : null;

    private sealed class Logger(RecordingLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull =>
            provider.ThrowInScopeOf is { } id && Equals(Value(state, "MessageId"), id)
                ? throw new InvalidOperationException("a logging scope that throws")
                : null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            provider.entries.Enqueue((eventId.Name ?? eventId.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), Value(state, "MessageId")));
    }
}
