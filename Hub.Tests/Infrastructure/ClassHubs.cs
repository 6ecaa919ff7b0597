namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>
/// Hub instances shared by the tests of one class (a class fixture: <c>IClassFixture&lt;ClassHubs&gt;</c>), sharing its
/// cluster's Redis and Postgres: started on first use with the cluster's settings and the class's overrides, one set
/// per distinct overrides, and stopped as soon as the class's last test has run. Before, such hubs lived until their
/// collection ended, minutes later, and an idle hub still uses CPU (≈ 0.46 s a minute: timers, renewals, sweeps). Tests
/// that only read their configuration share them; a test that stops, pauses or kills a hub starts its own with
/// <see cref="HubInstance.StartAsync"/>. Callers use distinct user names.
/// </summary>
public sealed class ClassHubs : IAsyncLifetime
{
    private readonly Dictionary<string, Task<HubInstance[]>> started = [];
    private ChatCluster? cluster;

    /// <summary><paramref name="count"/> hubs with <paramref name="cluster"/>'s settings and <paramref name="overrides"/>.</summary>
    internal Task<HubInstance[]> GetAsync(ChatCluster cluster, IReadOnlyDictionary<string, string> overrides, int count = 2)
    {
        var key = $"{count}|{string.Join('|', overrides.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key}={o.Value}"))}";
        lock (started)
        {
            this.cluster = cluster;
            if (!started.TryGetValue(key, out var hubs))
            {
                var settings = cluster.SettingsWith(overrides);
                started[key] = hubs = Task.WhenAll(Enumerable.Range(0, count).Select(_ => HubInstance.StartAsync(settings)));
            }

            return hubs;
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var hub in started.Values.Where(h => h.IsCompletedSuccessfully).SelectMany(h => h.Result))
        {
            cluster!.Retire(hub); // what it wrote stays in the cluster's HubOutput
            await hub.DisposeAsync();
        }
    }
}
