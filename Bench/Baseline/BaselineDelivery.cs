using System.Collections.Concurrent;
using System.Text.Json;
using ChatStreaming.Contracts;
using Microsoft.AspNetCore.SignalR;
using Npgsql;

namespace ChatStreaming.Bench.Baseline;

/// <summary>
/// Gets chunks from Postgres to this instance's watchers. Polling: a loop per watched stream that asks for new rows
/// every poll interval (what the design note argues against). Best polling: one loop per instance that asks for the
/// new rows of every stream it watches in one query per interval (the best a polling design can do). Notify: one
/// LISTEN connection that pushes what arrives.
/// </summary>
internal sealed class BaselineDelivery(
    NpgsqlDataSource dataSource, IHubContext<BaselineHub, IChatHubClient> hub, BaselineStats stats, BaselineOptions options, IHostApplicationLifetime lifetime)
    : BackgroundService
{
    private readonly ConcurrentDictionary<Guid, Task> polling = new();
    private readonly ConcurrentDictionary<Guid, (long Last, int Tokens)> watched = new();

    public void Watch(Guid streamId, int tokens)
    {
        if (options.Batched)
        {
            watched.TryAdd(streamId, (0, tokens));
        }
        else if (!options.Notify)
        {
            polling.TryAdd(streamId, PollAsync(streamId, tokens, lifetime.ApplicationStopping));
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Batched)
        {
            await PollAllAsync(stoppingToken);
            return;
        }

        if (!options.Notify)
        {
            await Task.Delay(Timeout.Infinite, stoppingToken).ContinueWith(_ => Task.WhenAll(polling.Values), TaskScheduler.Default);
            return;
        }

        await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
        connection.Notification += (_, e) =>
        {
            var chunk = JsonSerializer.Deserialize<NotifiedChunk>(e.Payload)!;
            _ = hub.Clients.Group(BaselineHub.Group(chunk.S)).ReceiveChunk(new Chunk(chunk.S, chunk.S, chunk.Q, chunk.D, chunk.T));
        };
        await using (var listen = new NpgsqlCommand($"LISTEN {BaselineSql.Channel}", connection))
        {
            await listen.ExecuteNonQueryAsync(stoppingToken);
        }

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await connection.WaitAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task PollAsync(Guid streamId, int tokens, CancellationToken stopping)
    {
        long last = 0;
        using var timer = new PeriodicTimer(options.PollInterval);
        try
        {
            while (last < tokens && await timer.WaitForNextTickAsync(stopping))
            {
                await using var command = dataSource.CreateCommand(BaselineSql.Poll);
                command.Parameters.AddWithValue("s", streamId);
                command.Parameters.AddWithValue("q", last);
                await using var reader = await command.ExecuteReaderAsync(stopping);
                var found = 0;
                while (await reader.ReadAsync(stopping))
                {
                    found++;
                    last = reader.GetInt64(0);
                    await hub.Clients.Group(BaselineHub.Group(streamId)).ReceiveChunk(
                        new Chunk(streamId, streamId, last, reader.GetString(1), reader.GetDouble(2)));
                }

                stats.Poll(empty: found == 0);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        finally
        {
            polling.TryRemove(streamId, out _);
        }
    }

    private async Task PollAllAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(options.PollInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                var streams = watched.ToArray();
                if (streams.Length == 0)
                {
                    continue;
                }

                await using var command = dataSource.CreateCommand(BaselineSql.PollMany);
                command.Parameters.AddWithValue("ids", streams.Select(s => s.Key).ToArray());
                command.Parameters.AddWithValue("after", streams.Select(s => s.Value.Last).ToArray());
                await using var reader = await command.ExecuteReaderAsync(stopping);
                var found = 0;
                while (await reader.ReadAsync(stopping))
                {
                    found++;
                    var streamId = reader.GetGuid(0);
                    var sequence = reader.GetInt64(1);
                    var (_, tokens) = watched[streamId];
                    watched[streamId] = (sequence, tokens);
                    _ = hub.Clients.Group(BaselineHub.Group(streamId)).ReceiveChunk(new Chunk(streamId, streamId, sequence, reader.GetString(2), reader.GetDouble(3)));
                }

                foreach (var (streamId, (_, tokens)) in streams)
                {
                    if (watched.TryGetValue(streamId, out var now) && now.Last >= tokens)
                    {
                        watched.TryRemove(streamId, out _);
                    }
                }

                stats.Poll(empty: found == 0);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }
}
