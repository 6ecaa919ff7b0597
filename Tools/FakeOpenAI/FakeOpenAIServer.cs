using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace ChatStreaming.FakeOpenAI;

/// <summary>
/// A local HTTP server that speaks OpenAI's and Azure OpenAI's chat completion streaming format (SSE) byte for byte,
/// and the Responses API's streaming and background mode (<c>FakeOpenAIServer.Responses.cs</c>), so the real SDKs can
/// be exercised offline. Each request takes the next queued <see cref="FakeReply"/>, or the default one; every request
/// is recorded.
/// </summary>
public sealed partial class FakeOpenAIServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<FakeReply> replies = new();
    private readonly ConcurrentQueue<RecordedRequest> requests = new();
    private readonly FakeReply defaultReply;
    private int completionIds;

    private FakeOpenAIServer(WebApplication app, FakeReply defaultReply)
    {
        this.app = app;
        this.defaultReply = defaultReply;
        app.MapPost("/v1/chat/completions", HandleAsync);
        app.MapPost("/chat/completions", HandleAsync);
        app.MapPost("/openai/deployments/{deployment}/chat/completions", HandleAsync);
        app.MapPost("/openai/v1/chat/completions", HandleAsync);
        MapResponses(app);
    }

    public string Url => app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    public IReadOnlyList<RecordedRequest> Requests => [.. requests];

    public static async Task<FakeOpenAIServer> StartAsync(FakeReply? defaultReply = null, string url = "http://127.0.0.1:0", string[]? args = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args ?? []);
        builder.WebHost.UseUrls(url);
        // A model server never drops a reader that falls behind (Kestrel's default minimum response rate would, on a busy
        // test machine, cut a long answer's stream under the hub reading it).
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MinResponseDataRate = null);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var server = new FakeOpenAIServer(builder.Build(), defaultReply ?? new FakeReply());
        await server.app.StartAsync();
        return server;
    }

    /// <summary>The replies for the next requests, in order; after them the default reply again.</summary>
    public void Enqueue(params FakeReply[] next)
    {
        foreach (var reply in next)
        {
            replies.Enqueue(reply);
        }
    }

    /// <summary>
    /// The reply for the next request whose last user message is <paramref name="prompt"/>, whatever else is queued or
    /// arrives meanwhile (a late retry of another test's request cannot take it).
    /// </summary>
    public void EnqueueFor(string prompt, FakeReply reply) => repliesByPrompt.GetOrAdd(prompt, _ => new()).Enqueue(reply);

    public void Reset()
    {
        replies.Clear();
        repliesByPrompt.Clear();
        requests.Clear();
        responses.Clear();
    }

    private readonly ConcurrentDictionary<string, ConcurrentQueue<FakeReply>> repliesByPrompt = new(StringComparer.Ordinal);

    /// <summary>The content of the request's last user message, if any.</summary>
    private static string? LastUserMessage(JsonNode? body) =>
        body?["messages"] is JsonArray messages
            ? messages.LastOrDefault(m => (string?)m?["role"] == "user")?["content"] switch
            {
                JsonValue text => (string?)text,
                JsonArray parts => string.Concat(parts.Select(p => (string?)p?["text"])),
                _ => null,
            }
            : null;

    private RecordedRequest Record(HttpContext context, JsonNode? body)
    {
        var recorded = new RecordedRequest(
            context.Request.Path, context.Request.Headers["api-key"].FirstOrDefault(), context.Request.Headers.Authorization.FirstOrDefault(), body);
        recorded.Query = context.Request.QueryString.Value ?? "";
        requests.Enqueue(recorded);
        return recorded;
    }

    private FakeReply ReplyFor(string? prompt) =>
        prompt is not null && repliesByPrompt.TryGetValue(prompt, out var forPrompt) && forPrompt.TryDequeue(out var keyed)
            ? keyed
            : replies.TryDequeue(out var next) ? next : defaultReply;

    private async Task HandleAsync(HttpContext context)
    {
        var body = await JsonNode.ParseAsync(context.Request.Body);
        var recorded = Record(context, body);
        var reply = ReplyFor(LastUserMessage(body));
        try
        {
            await AnswerAsync(context, reply, (string?)body?["model"] ?? "fake-model");
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        catch (IOException)
        {
        }
        finally
        {
            recorded.Aborted = context.RequestAborted.IsCancellationRequested;
            recorded.Ended = true;
        }
    }

    private async Task AnswerAsync(HttpContext context, FakeReply reply, string model)
    {
        var response = context.Response;
        var aborted = context.RequestAborted;
        if (reply.Status != 200)
        {
            response.StatusCode = reply.Status;
            if (reply.RetryAfter is { } retryAfter)
            {
                response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            }

            await response.WriteAsJsonAsync(new { error = new { message = $"fake error {reply.Status}", type = "fake_error", code = reply.Status } }, aborted);
            return;
        }

        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        var id = $"chatcmpl-fake{Interlocked.Increment(ref completionIds)}";
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await WriteEventAsync(response, Chunk(id, created, model, new JsonObject { ["role"] = "assistant", ["content"] = "" }, null), aborted);
        foreach (var thought in reply.Reasoning)
        {
            await WriteEventAsync(response, Chunk(id, created, model, new JsonObject { ["reasoning_content"] = thought }, null), aborted);
        }

        if (reply.ToolCall is { } call)
        {
            await WriteToolCallAsync(response, id, created, model, call, aborted);
            await WriteUsageAsync(response, id, created, model, 1, aborted);
            await WriteRawAsync(response, "data: [DONE]\n\n", aborted);
            return;
        }

        for (var i = 0; i < reply.Deltas.Count; i++)
        {
            if (i == reply.DropAfter)
            {
                // Let the client read what was sent (an abort can discard unread bytes), then drop the connection.
                await Task.Delay(TimeSpan.FromMilliseconds(200), aborted);
                context.Abort();
                return;
            }

            if (i == reply.EndAfter)
            {
                return;
            }

            if (i == reply.StallAfter)
            {
                await Task.Delay(Timeout.Infinite, aborted); // alive but silent
            }

            if (i == reply.MalformedAfter)
            {
                await WriteRawAsync(response, "data: {\"id\":\"broken\",\"choices\":[{\"delta\":{\"content\":\n\n", aborted);
                return;
            }

            var wait = reply.WaitBefore(i);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, aborted);
            }

            await WriteEventAsync(response, Chunk(id, created, model, new JsonObject { ["content"] = reply.Deltas[i] }, null), aborted);
        }

        await WriteEventAsync(response, Chunk(id, created, model, new JsonObject(), reply.FinishReason), aborted);
        if (reply.IncludeUsage)
        {
            await WriteUsageAsync(response, id, created, model, reply.Deltas.Count, aborted);
        }

        await WriteRawAsync(response, "data: [DONE]\n\n", aborted);
    }

    /// <summary>A tool call as OpenAI streams it: id, type and name first with the arguments in pieces, then the finish.</summary>
    private static async Task WriteToolCallAsync(HttpResponse response, string id, long created, string model, FakeToolCall call, CancellationToken aborted)
    {
        var half = call.ArgumentsJson.Length / 2;
        JsonObject Piece(string arguments, bool first) => new()
        {
            ["tool_calls"] = new JsonArray(first
                ? new JsonObject
                {
                    ["index"] = 0, ["id"] = call.CallId, ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = arguments },
                }
                : new JsonObject { ["index"] = 0, ["function"] = new JsonObject { ["arguments"] = arguments } }),
        };
        await WriteEventAsync(response, Chunk(id, created, model, Piece(call.ArgumentsJson[..half], first: true), null), aborted);
        await WriteEventAsync(response, Chunk(id, created, model, Piece(call.ArgumentsJson[half..], first: false), null), aborted);
        await WriteEventAsync(response, Chunk(id, created, model, new JsonObject(), "tool_calls"), aborted);
    }

    private static Task WriteUsageAsync(HttpResponse response, string id, long created, string model, int completionTokens, CancellationToken aborted) =>
        WriteEventAsync(response, new JsonObject
        {
            ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = created, ["model"] = model, ["choices"] = new JsonArray(),
            ["usage"] = new JsonObject { ["prompt_tokens"] = 11, ["completion_tokens"] = completionTokens, ["total_tokens"] = 11 + completionTokens },
        }, aborted);

    private static JsonObject Chunk(string id, long created, string model, JsonObject delta, string? finishReason) => new()
    {
        ["id"] = id,
        ["object"] = "chat.completion.chunk",
        ["created"] = created,
        ["model"] = model,
        ["system_fingerprint"] = "fp_fake",
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["logprobs"] = null, ["finish_reason"] = finishReason }),
    };

    private static Task WriteEventAsync(HttpResponse response, JsonObject data, CancellationToken cancellationToken) =>
        WriteRawAsync(response, $"data: {data.ToJsonString(JsonOptions)}\n\n", cancellationToken);

    private static async Task WriteRawAsync(HttpResponse response, string text, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false };

    public async ValueTask DisposeAsync()
    {
        await StopBackgroundResponsesAsync();
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
