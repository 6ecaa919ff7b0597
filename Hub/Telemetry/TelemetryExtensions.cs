using ChatStreaming.Worker.Diagnostics;
using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace ChatStreaming.Server.Telemetry;

internal static class TelemetryExtensions
{
    /// <summary>Fine buckets (ms) for sub-millisecond chunk writes up to slow model starts.</summary>
    private static readonly double[] MillisecondBuckets =
        [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

    /// <summary>
    /// OpenTelemetry: the app's metrics (meters ChatStreaming.Worker and ChatStreaming.Server) scraped by Prometheus at /metrics; with
    /// <c>Telemetry:OtlpEndpoint</c> set, metrics and traces (SendMessage → generation → model → save, plus SignalR,
    /// ASP.NET Core and Npgsql spans) are also pushed over OTLP (HTTP/protobuf).
    /// </summary>
    public static IHostApplicationBuilder AddChatTelemetry(this IHostApplicationBuilder builder)
    {
        SilenceHubDispatcherLog(builder);
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.SectionName)
            .Validate(o => o.OtlpEndpoint is null || IsHttpUrl(o.OtlpEndpoint), "Telemetry:OtlpEndpoint must be an absolute http(s) URL, e.g. http://collector:4318.")
            .ValidateOnStart();
        var otlp = builder.Configuration[$"{TelemetryOptions.SectionName}:{nameof(TelemetryOptions.OtlpEndpoint)}"] is { } value && IsHttpUrl(value)
            ? value.TrimEnd('/') // a base URL: the signal paths are appended (…/v1/traces)
            : null;

        var telemetry = builder.Services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            metrics
                .AddMeter(WorkerMetrics.MeterName, HubMetrics.MeterName, WorkerTracing.GenAISourceName)
                .AddView(instrument => instrument.Unit == "ms" ? new ExplicitBucketHistogramConfiguration { Boundaries = MillisecondBuckets } : null)
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0); // every scrape is fresh
            if (otlp is not null)
            {
                metrics.AddOtlpExporter(o => Otlp(o, otlp, "v1/metrics"));
            }
        });
        if (otlp is not null)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(WorkerTracing.SourceName, WorkerTracing.GenAISourceName, "Microsoft.AspNetCore.SignalR.Server", "Microsoft.AspNetCore", "Npgsql")
                .AddOtlpExporter(o => Otlp(o, otlp, "v1/traces")));
        }

        return builder;
    }

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

    private static void Otlp(OtlpExporterOptions options, string endpoint, string signalPath)
    {
        options.Protocol = OtlpExportProtocol.HttpProtobuf;
        options.Endpoint = new Uri($"{endpoint}/{signalPath}");
    }

    private static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}

/// <summary>The <c>Telemetry</c> section.</summary>
internal sealed class TelemetryOptions
{
    public const string SectionName = "Telemetry";

    /// <summary>Base URL of an OTLP/HTTP collector (e.g. http://collector:4318); unset = Prometheus /metrics only, no traces.</summary>
    public string? OtlpEndpoint { get; set; }
}
