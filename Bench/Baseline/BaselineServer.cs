using ChatStreaming.Persistence;
using Npgsql;

namespace ChatStreaming.Bench.Baseline;

/// <summary>A baseline hub instance: <c>ChatStreaming.Bench baseline --mode polling|bestpolling|notify --urls … --postgres …</c>.</summary>
internal static class BaselineServer
{
    public static async Task<int> RunAsync(string mode, string urls, string postgres, TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(urls);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSignalR();
        // The product's own Npgsql settings (prepared statements, no reset of pooled connections): the polling and
        // LISTEN/NOTIFY designs are compared with the product's, not Npgsql's defaults with its tuning.
        builder.Services.AddSingleton(NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(PersistenceExtensions.WithPoolDefaults(postgres)) { MaxPoolSize = 200 }.ConnectionString));
        builder.Services.AddSingleton(new BaselineOptions(mode == "notify", mode == "bestpolling", pollInterval));
        builder.Services.AddSingleton<BaselineStats>();
        builder.Services.AddSingleton<BaselineProducer>();
        builder.Services.AddSingleton<BaselineDelivery>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<BaselineDelivery>());
        var app = builder.Build();

        await using (var create = app.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand(BaselineSql.CreateTable))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        app.MapHub<BaselineHub>("/hubs/chat");
        app.MapGet("/health/ready", () => "ok");
        app.MapGet("/stats", (BaselineStats stats) => stats.TakeAndReset());
        await app.RunAsync(cancellationToken);
        await app.Services.GetRequiredService<BaselineProducer>().DrainAsync();
        return 0;
    }
}
