using ChatStreaming.Worker;
using OpenTelemetry.Metrics;

namespace ChatStreaming.Server.Telemetry;

internal static class TelemetryExtensions
{
    /// <summary>Fine buckets (ms) for sub-millisecond chunk writes up to slow model starts.</summary>
    private static readonly double[] MillisecondBuckets =
        [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

    /// <summary>OpenTelemetry metrics of the worker (meter ChatStreaming.Worker), scraped by Prometheus at /metrics.</summary>
    public static IHostApplicationBuilder AddChatTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(WorkerMetrics.MeterName)
            .AddView(instrument => instrument.Unit == "ms" ? new ExplicitBucketHistogramConfiguration { Boundaries = MillisecondBuckets } : null)
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0)); // every scrape is fresh
        return builder;
    }

    public static WebApplication MapChatTelemetry(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
