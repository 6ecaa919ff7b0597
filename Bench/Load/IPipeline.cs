using Microsoft.AspNetCore.SignalR.Client;

namespace ChatStreaming.Bench.Load;

/// <summary>One way of getting chunks from the model to the clients, on two server instances.</summary>
internal interface IPipeline : IAsyncDisposable
{
    string Name { get; }

    IReadOnlyList<string> Urls { get; }

    IReadOnlyList<int> ServerProcessIds { get; }

    /// <summary>A connected client for stream <paramref name="index"/> (user, token… as the pipeline needs).</summary>
    Task<HubConnection> ConnectAsync(string url, int index, CancellationToken cancellationToken);

    /// <summary>Subscribes the client and starts its stream; returns the id its chunks carry.</summary>
    Task<Guid> StartStreamAsync(HubConnection connection, StreamResult result, CancellationToken cancellationToken);

    /// <summary>Producer chunk write times and poll counts since the last call.</summary>
    Task<ServerStats> TakeServerStatsAsync(CancellationToken cancellationToken);
}
