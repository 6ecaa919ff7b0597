namespace ChatStreaming.Bench.Load;

/// <summary>One way of getting chunks from the model to the clients, on two server instances.</summary>
internal interface IPipeline : IAsyncDisposable
{
    string Name { get; }

    IReadOnlyList<string> Urls { get; }

    IReadOnlyList<int> ServerProcessIds { get; }

    /// <summary>The Postgres database its servers use (their statements are counted), or null when they use none.</summary>
    string? Database => null;

    /// <summary>Runs on the run's Redis Cluster (<c>./bench.sh --cluster</c>) instead of its single Redis.</summary>
    bool OnRedisCluster => false;

    /// <summary>
    /// The connected clients of stream <paramref name="index"/> (SignalR connections, sockets… as the pipeline needs):
    /// the first one starts the stream on instance <c>index % 2</c>; every one watches it.
    /// </summary>
    Task<IAsyncDisposable[]> ConnectAsync(int index, CancellationToken cancellationToken);

    /// <summary>Subscribes the clients and starts their stream; returns the id its chunks carry.</summary>
    Task<Guid> StartStreamAsync(IAsyncDisposable[] connections, StreamResult result, CancellationToken cancellationToken);

    /// <summary>Producer chunk write times and poll counts since the last call.</summary>
    Task<ServerStats> TakeServerStatsAsync(CancellationToken cancellationToken);
}
