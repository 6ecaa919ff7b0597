using ChatStreaming.Worker.Diagnostics;
using ChatStreaming.Worker.Ending;
using ChatStreaming.Worker.Facade;
using ChatStreaming.Worker.Generation;
using ChatStreaming.Worker.Intake;
using ChatStreaming.Worker.Limits;
using ChatStreaming.Worker.Model;
using ChatStreaming.Worker.Redis;
using ChatStreaming.Worker.Streaming;
using ChatStreaming.Worker.Tools;
using Microsoft.Extensions.AI;
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
        var catalog = ModelCatalogLayout.Read(builder.Configuration);
        services.AddOptions<ChatStreamingOptions>().BindConfiguration(ChatStreamingOptions.SectionName).ValidateDataAnnotations()
            .Validate(
                _ => catalog.IsSingleSection || catalog.Find(catalog.DefaultName) is not null,
                $"{ModelCatalogLayout.DefaultModelKey} '{catalog.DefaultName}' is not one of {ModelOptions.CatalogSectionName}: {string.Join(", ", catalog.Names)}.")
            .ValidateOnStart();
        services.AddSingleton(catalog);
        services.AddSingleton<IValidateOptions<ModelOptions>, ModelOptionsValidator>();
        foreach (var name in catalog.Names)
        {
            services.AddOptions<ModelOptions>(name).Configure<IConfiguration>((o, c) => catalog.Bind(c, name, o)).ValidateOnStart();
            // The provider's client, then OpenTelemetry (a GenAI span and metrics per model call), then function
            // invocation outermost (it runs the tools between calls): built once per model, resolved by name.
            services.AddKeyedChatClient(name, sp => ModelClients.Create(sp, sp.GetRequiredService<IOptionsMonitor<ModelOptions>>().Get(name)))
                .UseFunctionInvocation(configure: invoking => invoking.MaximumIterationsPerRequest = MaxToolRounds)
                .UseOpenTelemetry(sourceName: WorkerTracing.GenAISourceName, configure: telemetry => telemetry.EnableSensitiveData = false);
        }

        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<SearchHistoryTool>();
        services.AddChatTool(sp => sp.GetRequiredService<SearchHistoryTool>().AsFunction());

        RedisRetries.Register(services);
        services.AddSingleton<IConnectionMultiplexer>(sp => ConnectionMultiplexer.Connect(RedisConfiguration(sp.GetRequiredService<IOptions<RedisConnectionOptions>>().Value)));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<InstanceIdentity>();
        services.AddSingleton<RedisTopology>();
        services.AddSingleton<RedisConnectionFailures>();
        services.AddSingleton<WorkerMetrics>();

        // The doors: what the host calls (one facade per concern).
        services.AddSingleton(sp => new Answers(
            sp.GetRequiredService<ExchangeIntake>(), sp.GetRequiredService<GenerationState>(), sp.GetRequiredService<Persistence.ChatStore>(),
            sp.GetRequiredService<ModelCatalog>(), sp.GetRequiredService<IChatBroadcaster>(), sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<Answers>>()));
        services.AddSingleton(sp => new Conversations(
            sp.GetRequiredService<Persistence.ChatStore>(), sp.GetRequiredService<ConversationReader>(), sp.GetRequiredService<GenerationState>(),
            sp.GetRequiredService<ModelCatalog>(), sp.GetRequiredService<WorkerMetrics>(), sp.GetRequiredService<IOptions<ChatStreamingOptions>>()));
        services.AddSingleton(sp => new Replay(sp.GetRequiredService<ReplayStream>(), sp.GetRequiredService<GenerationState>(), sp.GetRequiredService<Persistence.ChatStore>(), sp.GetRequiredService<WorkerMetrics>()));
        services.AddSingleton(sp => new Connections(sp.GetRequiredService<UserConnections>(), sp.GetRequiredService<ConversationSubscriptions>(), sp.GetRequiredService<Outboxes>()));
        services.AddSingleton<ConversationReader>();

        // Taking a send in, and the per-user limits.
        services.AddSingleton<ExchangeIntake>();
        services.AddSingleton<UserLimiter>();
        services.AddSingleton<UserConnections>();

        // Streaming: the replay stream, its one writer, the conversations' events and local delivery.
        services.AddSingleton<ReplayStream>();
        services.AddSingleton<ChunkWriter>();
        services.AddSingleton<ChunkPacing>();
        services.AddSingleton<ConversationSubscriptions>();
        services.AddSingleton<Outboxes>();
        services.AddSingleton<IChatBroadcaster, ConversationBroadcaster>();

        // Ending: the answer's state in Redis, its owner here, its one way to end, cancellation.
        services.AddSingleton<GenerationState>();
        services.AddSingleton<OwnedAnswers>();
        services.AddSingleton<GenerationFinisher>();
        services.AddSingleton<Cancellations>();
        services.AddSingleton<DrainSignal>();

        // Generating: the queue, the slots, one answer's run, the model.
        services.AddSingleton(sp => new GenerationQueue(
            sp.GetRequiredService<IOptions<ChatStreamingOptions>>(), sp.GetRequiredService<DrainSignal>(), sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddSingleton<AnswerGenerator>();
        services.AddSingleton<ChunkSink>();
        services.AddSingleton<IAnswerContinuation, AnswerContinuation>();
        services.AddSingleton<TokenSpender>();
        services.AddSingleton<CoarseClock>();
        services.AddSingleton<StallWatchdog>();
        services.AddSingleton<ModelStreamReader>();
        services.AddSingleton<BackgroundResponses>();

        // Background work, stopped in the reverse order: the chunk writer and the lease renewer outlive the generator.
        services.AddHostedService(sp => sp.GetRequiredService<Outboxes>());
        services.AddHostedService(sp => sp.GetRequiredService<ChunkWriter>());
        services.AddHostedService(sp => sp.GetRequiredService<ChunkPacing>());
        services.AddHostedService<LeaseRenewer>();
        services.AddHostedService<UserConnectionsRenewer>();
        services.AddHostedService(sp => sp.GetRequiredService<Cancellations>());
        services.AddHostedService<CancelFlagPoller>();
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

    /// <summary>Model calls per answer at most (each tool round is one more).</summary>
    private const int MaxToolRounds = 4;

    /// <summary>
    /// Registers a tool a catalog model can be offered (by its name, in <c>Chat:Models:{name}:Tools</c>). It runs inside
    /// a generation: <see cref="ToolCaller.Current"/> says for whom; scope what it reads to that user.
    /// </summary>
    public static IServiceCollection AddChatTool(this IServiceCollection services, Func<IServiceProvider, AIFunction> tool) =>
        services.AddSingleton(tool);

    /// <inheritdoc cref="AddChatTool(IServiceCollection, Func{IServiceProvider, AIFunction})"/>
    public static IServiceCollection AddChatTool(this IServiceCollection services, AIFunction tool) => services.AddSingleton(tool);

    private static TimeSpan Setting(IConfiguration configuration, string key, TimeSpan fallback) =>
        TimeSpan.TryParse(configuration[key], System.Globalization.CultureInfo.InvariantCulture, out var value) && value >= TimeSpan.Zero ? value : fallback;

    /// <summary>The StackExchange.Redis options every connection of the app uses: keep retrying, never fail start-up.</summary>
    public static ConfigurationOptions RedisConfiguration(RedisConnectionOptions options)
    {
        var configuration = ConfigurationOptions.Parse(options.ConnectionString!);
        configuration.AbortOnConnectFail = false;
        // On a Redis Cluster the readiness check (Hub/Health/RedisHealthCheck.cs) reads CLUSTER INFO, which
        // StackExchange.Redis counts as an admin command; nothing else here sends one.
        configuration.AllowAdmin = true;
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
