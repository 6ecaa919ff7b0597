using ChatStreaming.Persistence;
using ChatStreaming.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>
/// The Worker's services as the hub hosts them, in the test process, on a cluster's Redis and Postgres, not started
/// (no generator, no sweep, no renewal of its own): a test calls the services itself, in the order it needs.
/// </summary>
internal static class WorkerHost
{
    public static IHost Create(ChatCluster cluster, IReadOnlyDictionary<string, string>? overrides = null, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders(); // what the services log is the product's; the test says what matters
        builder.Configuration.AddInMemoryCollection(cluster.SettingsWith(overrides ?? new Dictionary<string, string>()).Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)));
        builder.AddChatPersistence();
        builder.AddChatWorker();
        services?.Invoke(builder.Services);
        return builder.Build();
    }
}
