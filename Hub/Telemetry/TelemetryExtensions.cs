using ChatStreaming.Worker.Diagnostics;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ChatStreaming.Server.Telemetry;

internal static class TelemetryExtensions
{
    /// <summary>Fine buckets (ms) for sub-millisecond chunk writes up to slow model starts.</summary>
    private static readonly double[] MillisecondBuckets =
        [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

    /// <summary>
    /// The meters exported beside the app's own: ASP.NET Core's (requests, Kestrel connections, SignalR connections and
    /// their duration), the runtime's (GC, thread pool, JIT, process CPU and memory: System.Runtime), HttpClient's (the
    /// model calls), Npgsql's and Polly's (the retry pipelines), all built into those libraries (no instrumentation
    /// packages). StackExchange.Redis 3.4 publishes no meter; the chunk path's own histograms time its Redis work.
    /// </summary>
    internal static readonly string[] BuiltInMeters =
    [
        "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Http.Connections",
        "Microsoft.AspNetCore.Routing", "Microsoft.AspNetCore.RateLimiting", "Microsoft.AspNetCore.Authentication",
        "System.Runtime", "System.Net.Http", "Npgsql", "Polly",
    ];

    /// <summary>
    /// OpenTelemetry the standard way: the app's metrics (meters ChatStreaming.Worker, ChatStreaming.Server and the GenAI
    /// ones) and <see cref="BuiltInMeters"/> scraped by Prometheus at /metrics; with an OTLP endpoint, metrics and traces
    /// (SendMessage → generation → model → save, plus SignalR, ASP.NET Core and Npgsql spans) are also pushed over OTLP.
    /// The endpoint is <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (what Aspire and collectors inject; protocol from
    /// <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, http/protobuf unless "grpc"), or <c>Telemetry:OtlpEndpoint</c> (http/protobuf),
    /// which wins when both are set (the app's own setting over the environment's). <c>OTEL_SERVICE_NAME</c> (default chatstreaming-hub) and <c>OTEL_RESOURCE_ATTRIBUTES</c> describe
    /// the resource (service.instance.id: a new id per process).
    /// </summary>
    public static IHostApplicationBuilder AddChatTelemetry(this IHostApplicationBuilder builder)
    {
        SilenceHubDispatcherLog(builder);
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.SectionName)
            .Validate(o => o.OtlpEndpoint is null || IsHttpUrl(o.OtlpEndpoint), "Telemetry:OtlpEndpoint must be an absolute http(s) URL, e.g. http://collector:4318.")
            .ValidateOnStart();
        var configuration = builder.Configuration;
        var alias = configuration[$"{TelemetryOptions.SectionName}:{nameof(TelemetryOptions.OtlpEndpoint)}"] is { Length: > 0 } set ? set : null;
        var otlp = (alias ?? configuration[OtlpEndpointVariable]) is { } value && IsHttpUrl(value) ? value.TrimEnd('/') : null;
        var protocol = alias is null && string.Equals(configuration["OTEL_EXPORTER_OTLP_PROTOCOL"], "grpc", StringComparison.OrdinalIgnoreCase)
            ? OtlpExportProtocol.Grpc
            : OtlpExportProtocol.HttpProtobuf;

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(
                serviceName: configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : DefaultServiceName))
            .WithMetrics(metrics => metrics
                .AddMeter(WorkerMetrics.MeterName, WorkerMetrics.ReadsMeterName, WorkerTracing.GenAISourceName)
                .AddMeter(BuiltInMeters)
                .AddView(instrument => instrument.Unit == "ms" ? new ExplicitBucketHistogramConfiguration { Boundaries = MillisecondBuckets } : null)
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0)); // every scrape is fresh
        if (otlp is not null)
        {
            telemetry
                .WithTracing(tracing => tracing.AddSource(
                    WorkerTracing.SourceName, WorkerTracing.GenAISourceName, "Microsoft.AspNetCore.SignalR.Server", "Microsoft.AspNetCore", "Npgsql"))
                .UseOtlpExporter(protocol, new Uri(otlp)); // http/protobuf: the signal paths (/v1/traces…) are appended
        }

        return builder;
    }

    /// <summary>The standard variable naming the OTLP collector (read from configuration: environment variables are in it).</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public const string DefaultServiceName = "chatstreaming-hub";

    /// <summary>
    /// SignalR's dispatcher logs a client's refused call at Error with a stack trace (<see cref="UnexpectedHubErrorFilter"/>
    /// logs the unexpected ones instead). Off for every logging provider by name, because a provider-specific level in
    /// configuration (e.g. <c>Logging:Console:LogLevel:Default</c>) would beat a rule for all providers.
    /// </summary>
    private static void SilenceHubDispatcherLog(IHostApplicationBuilder builder)
    {
        var providers = builder.Services
            .Where(d => d.ServiceType == typeof(ILoggerProvider))
            .Select(d => d.ImplementationType ?? d.ImplementationInstance?.GetType())
            .OfType<Type>()
            .Select(t => t.FullName)
            .Distinct()
            .ToList();
        builder.Services.Configure<LoggerFilterOptions>(o =>
        {
            o.Rules.Add(new LoggerFilterRule(null, UnexpectedHubErrorFilter.DispatcherCategory, LogLevel.None, null));
            foreach (var provider in providers)
            {
                o.Rules.Add(new LoggerFilterRule(provider, UnexpectedHubErrorFilter.DispatcherCategory, LogLevel.None, null));
            }
        });
    }

    public static WebApplication MapChatTelemetry(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    private static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}

/// <summary>The <c>Telemetry</c> section.</summary>
internal sealed class TelemetryOptions
{
    public const string SectionName = "Telemetry";

    /// <summary>
    /// Base URL of an OTLP/HTTP collector (e.g. http://collector:4318): an alias of the standard
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>; this one wins when both are set. Neither: Prometheus /metrics only, no traces.
    /// </summary>
    public string? OtlpEndpoint { get; set; }
}
