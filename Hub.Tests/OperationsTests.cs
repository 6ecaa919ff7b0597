using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using System.Text;
using ChatStreaming.Contracts;
using ChatStreaming.Hub.Tests.Infrastructure;
using Xunit;

namespace ChatStreaming.Hub.Tests;

/// <summary>What an operator relies on: traces over OTLP, readiness that follows saturation and draining.</summary>
[Collection(ClusterCollection.Name)]
public sealed class OperationsTests(ChatCluster cluster)
{
    [Fact]
    public async Task WithAnOtlpEndpointTheTraceOfAnAnswerSpansSendMessageGenerationModelGenAIAndSave()
    {
        await using var collector = await FakeOtlpCollector.StartAsync();
        var settings = cluster.Settings.ToDictionary();
        settings["Telemetry:OtlpEndpoint"] = collector.Url;
        settings["OTEL_BSP_SCHEDULE_DELAY"] = "200"; // export spans every 200 ms instead of 5 s
        await using var hub = await HubInstance.StartAsync(settings);
        await using var client = await cluster.ConnectAsync(hub.Url, "traced");
        var conversation = await client.CreateConversationAsync();

        var sent = await client.SendAsync(conversation.Id, "trace me");
        await client.WaitForFinishedAsync(sent.AssistantMessageId);

        // OTLP/protobuf carries span names and string attributes as plain UTF-8: enough to see what was exported.
        // The model call's OpenTelemetry GenAI span too (Microsoft.Extensions.AI's, under its own scope).
        string[] expected = ["chat.send_message", "chat.generation", "chat.model", "chat.save", sent.AssistantMessageId.ToString(), "ChatStreaming.GenAI", "gen_ai.operation.name"];
        try
        {
            await Wait.UntilAsync(() => expected.All(collector.Traces.Contains), TimeSpan.FromSeconds(15), "the answer's spans were not exported");
        }
        catch (TimeoutException)
        {
            Assert.Fail($"missing from {collector.Traces.Length} exported characters ({collector.Requests} requests): {string.Join(", ", expected.Where(e => !collector.Traces.Contains(e, StringComparison.Ordinal)))}");
        }
        Assert.Contains("ChatStreaming", collector.Traces, StringComparison.Ordinal); // the instrumentation scope
    }

    [Fact]
    public async Task ReadinessFailsWhileTheGeneratorQueueIsFullAndWhileTheInstanceDrains()
    {
        var settings = cluster.Settings.ToDictionary();
        settings["Chat:MaxConcurrentGenerations"] = "1";
        settings["Chat:GeneratorQueueCapacity"] = "1";
        settings["Chat:Model:Simulated:TokensPerSecond"] = "10";
        settings["Chat:Model:Simulated:ResponseTokens"] = "600";
        settings["Chat:ShutdownGrace"] = "00:00:03";
        settings["Chat:DrainDelay"] = "00:00:02";
        await using var hub = await HubInstance.StartAsync(settings);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await using var client = await cluster.ConnectAsync(hub.Url, "saturating");
        var conversation = await client.CreateConversationAsync();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"{hub.Url}{ChatHubPaths.HealthReady}")).StatusCode);

        var running = await client.SendAsync(conversation.Id, "runs");
        await client.WaitForChunksAsync(running.AssistantMessageId, 1);
        var queued = await client.SendAsync(conversation.Id, "waits");
        var saturated = await http.GetAsync($"{hub.Url}{ChatHubPaths.HealthReady}");
        await client.InvokeAsync<bool>(ChatHubMethods.CancelGeneration, queued.AssistantMessageId);
        await client.InvokeAsync<bool>(ChatHubMethods.CancelGeneration, running.AssistantMessageId);
        await client.WaitForFinishedAsync(queued.AssistantMessageId);
        var free = await http.GetAsync($"{hub.Url}{ChatHubPaths.HealthReady}");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, saturated.StatusCode);
        Assert.Equal(HttpStatusCode.OK, free.StatusCode);

        var longOne = await client.SendAsync(conversation.Id, "keeps it draining");
        await client.WaitForChunksAsync(longOne.AssistantMessageId, 1);
        hub.Process.Signal(Signals.Terminate); // not ready but serving for Chat:DrainDelay, then Chat:ShutdownGrace for the answer
        var whileDraining = new List<HttpStatusCode>();
        while (!hub.Process.HasExited && whileDraining.Count < 50)
        {
            try
            {
                whileDraining.Add((await http.GetAsync($"{hub.Url}{ChatHubPaths.HealthReady}")).StatusCode);
            }
            catch (HttpRequestException)
            {
                break; // no longer listening
            }

            await Task.Delay(100);
        }

        var firstUnavailable = whileDraining.IndexOf(HttpStatusCode.ServiceUnavailable);
        Assert.True(firstUnavailable >= 0, $"never 503 while draining: {string.Join(", ", whileDraining)}");
        Assert.DoesNotContain(HttpStatusCode.OK, whileDraining.Skip(firstUnavailable)); // once draining, never ready again
        Assert.True(whileDraining.Count(s => s == HttpStatusCode.ServiceUnavailable) >= 10, "the instance kept serving (not ready) through the drain delay");
    }
}

/// <summary>An OTLP/HTTP collector that keeps what it is sent (protobuf bodies, read as text for plain strings).</summary>
internal sealed class FakeOtlpCollector : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly StringBuilder traces = new();
    private int requests;

    public int Requests => Volatile.Read(ref requests);

    private FakeOtlpCollector(WebApplication app)
    {
        this.app = app;
        app.Run(async context =>
        {
            Interlocked.Increment(ref requests);
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            if (context.Request.Path == "/v1/traces")
            {
                lock (traces)
                {
                    traces.Append(Encoding.UTF8.GetString(body.ToArray()));
                }
            }

            context.Response.ContentType = "application/x-protobuf";
        });
    }

    public string Url { get; private set; } = "";

    public string Traces
    {
        get
        {
            lock (traces)
            {
                return traces.ToString();
            }
        }
    }

    public static async Task<FakeOtlpCollector> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var collector = new FakeOtlpCollector(builder.Build());
        await collector.app.StartAsync();
        collector.Url = collector.app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return collector;
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
