using ChatStreaming.Worker.Delivery;
using ChatStreaming.Worker.Diagnostics;
using ChatStreaming.Worker.Generation;
using ChatStreaming.Worker.Intake;
using ChatStreaming.Worker.Model;
using ChatStreaming.Worker.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatStreaming.Worker;

public static class WorkerExtensions
{
    /// <summary>
    /// Redis (replay buffer, generation state, limits), the model, the send flow (<see cref="ExchangeIntake"/>) and the
    /// in-process generator, and the delivery of conversation events. The host supplies <see cref="ILocalConnections"/>.
    /// </summary>
    public static IHostApplicationBuilder AddChatWorker(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<RedisConnectionOptions>()
            .Configure<IConfiguration>((o, c) => o.ConnectionString = c[RedisConnectionOptions.ConnectionStringKey])
            .ValidateDataAnnotations()
            .Validate(o => IsValidRedisConfiguration(o.ConnectionString), $"{RedisConnectionOptions.ConnectionStringKey} is not a valid StackExchange.Redis configuration string.")
            .ValidateOnStart();
        services.AddOptions<ChatStreamingOptions>().BindConfiguration(ChatStreamingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ModelOptions>().BindConfiguration(ModelOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SimulatedModelOptions>().BindConfiguration(SimulatedModelOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        services.AddSingleton<IConnectionMultiplexer>(sp => ConnectionMultiplexer.Connect(RedisConfiguration(sp.GetRequiredService<IOptions<RedisConnectionOptions>>().Value)));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ReplayBuffer>();
        services.AddSingleton<ChunkWriter>();
        services.AddSingleton<ConversationSubscriptions>();
        services.AddSingleton<IChatBroadcaster, ConversationBroadcaster>();
        services.AddSingleton<GenerationState>();
        services.AddSingleton<UserLimiter>();
        services.AddSingleton<GenerationQueue>();
        services.AddSingleton<OwnedAnswers>();
        services.AddSingleton<InstanceIdentity>();
        services.AddSingleton<WorkerMetrics>();
        services.AddSingleton<GenerationFinisher>();
        services.AddSingleton<ExchangeIntake>();
        services.AddSingleton<IValidateOptions<ModelOptions>, ModelOptionsValidator>();
        services.AddSingleton<SimulatedClock>();
        services.AddSingleton(ModelClients.Create);
        services.AddSingleton<StallWatchdog>();
        services.AddSingleton<ModelStreamReader>();
        services.AddHostedService<LeaseRenewer>(); // before the generator: stopped after it
        services.AddHostedService<GeneratorService>();
        services.AddHostedService<OrphanSweeper>();
        services.AddHostedService<DrainService>();
        // The host waits for the graceful stop: the drain delay, the grace, then the saves of what had to be interrupted.
        // (Read from configuration, not validated options: the host reads this before start-up validation reports errors.)
        services.AddOptions<HostOptions>().Configure<IConfiguration>((host, configuration) =>
            host.ShutdownTimeout = Setting(configuration, "Chat:DrainDelay", new ChatStreamingOptions().DrainDelay)
                + Setting(configuration, "Chat:ShutdownGrace", new ChatStreamingOptions().ShutdownGrace)
                + TimeSpan.FromSeconds(15));
        return builder;
    }

    private static TimeSpan Setting(IConfiguration configuration, string key, TimeSpan fallback) =>
        TimeSpan.TryParse(configuration[key], System.Globalization.CultureInfo.InvariantCulture, out var value) && value >= TimeSpan.Zero ? value : fallback;

    /// <summary>The StackExchange.Redis options every connection of the app uses: keep retrying, never fail start-up.</summary>
    public static ConfigurationOptions RedisConfiguration(RedisConnectionOptions options)
    {
        var configuration = ConfigurationOptions.Parse(options.ConnectionString!);
        configuration.AbortOnConnectFail = false;
        return configuration;
    }

    private static bool IsValidRedisConfiguration(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return true; // reported by [Required]
        }

        try
        {
            return ConfigurationOptions.Parse(value).EndPoints.Count > 0;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
