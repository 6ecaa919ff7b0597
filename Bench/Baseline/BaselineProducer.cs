using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using ChatStreaming.Bench.Load;
using Npgsql;

namespace ChatStreaming.Bench.Baseline;

/// <summary>
/// The baselines' worker: the same simulated model pace, but every chunk is a Postgres row (polling) or a row plus a
/// NOTIFY in one transaction (notify). Streams run as tracked tasks and are awaited when the server stops.
/// </summary>
internal sealed class BaselineProducer(NpgsqlDataSource dataSource, BaselineStats stats, BaselineOptions options, IHostApplicationLifetime lifetime)
{
    private readonly ConcurrentDictionary<Guid, Task> running = new();

    public void Start(Guid streamId, int tokens, double tokensPerSecond) =>
        running.TryAdd(streamId, RunAsync(streamId, tokens, tokensPerSecond, lifetime.ApplicationStopping));

    public Task DrainAsync() => Task.WhenAll(running.Values);

    private async Task RunAsync(Guid streamId, int tokens, double tokensPerSecond, CancellationToken stopping)
    {
        await PacedTokens.RunAsync(streamId, tokens, tokensPerSecond, async (i, delta, emittedAt) =>
        {
            var writing = Stopwatch.GetTimestamp();
            await using (var command = dataSource.CreateCommand(options.Notify ? BaselineSql.InsertAndNotify : BaselineSql.Insert))
            {
                command.Parameters.AddWithValue("s", streamId);
                command.Parameters.AddWithValue("q", (long)i);
                command.Parameters.AddWithValue("d", delta);
                command.Parameters.AddWithValue("t", emittedAt);
                if (options.Notify)
                {
                    command.Parameters.AddWithValue("payload", JsonSerializer.Serialize(new NotifiedChunk(streamId, i, delta, emittedAt)));
                }

                await command.ExecuteNonQueryAsync(stopping); // one statement: autocommit is the transaction
            }

            stats.Write(Stopwatch.GetElapsedTime(writing).TotalMilliseconds);
        }, stopping);
        running.TryRemove(streamId, out _);
    }
}

internal sealed record NotifiedChunk(Guid S, long Q, string D, double T);
