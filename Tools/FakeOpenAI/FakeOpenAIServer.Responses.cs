using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;

namespace ChatStreaming.FakeOpenAI;

/// <summary>
/// The Responses API (<c>POST /v1/responses</c>) as OpenAI streams it, and its background mode: a request with
/// <c>background: true</c> is generated once, on the server, whether or not anyone reads it; its events can be read
/// again from any point with <c>GET /v1/responses/{id}?stream=true&amp;starting_after=N</c> and it can be cancelled
/// (<c>POST /v1/responses/{id}/cancel</c>). <see cref="Responses"/> records what each response generated and which
/// events each stream served, so a test can show nothing was generated twice.
/// </summary>
public sealed partial class FakeOpenAIServer
{
    private readonly ConcurrentDictionary<string, FakeResponse> responses = new(StringComparer.Ordinal);
    private int responseIds;

    /// <summary>The responses created so far (background or not), by id.</summary>
    public IReadOnlyDictionary<string, FakeResponse> Responses => responses;

    private void MapResponses(WebApplication web)
    {
        foreach (var prefix in new[] { "/v1", "", "/openai/v1" })
        {
            web.MapPost(prefix + "/responses", CreateResponseAsync);
            web.MapGet(prefix + "/responses/{id}", GetResponseAsync);
            web.MapPost(prefix + "/responses/{id}/cancel", CancelResponse);
        }
    }

    private async Task CreateResponseAsync(HttpContext context)
    {
        var body = await JsonNode.ParseAsync(context.Request.Body);
        var recorded = Record(context, body);
        // A round after a tool's result continues the stored response it follows, and sends only the result.
        var prompt = LastInputText(body)
            ?? ((string?)body?["previous_response_id"] is { } previous && responses.TryGetValue(previous, out var before) ? before.Prompt : null);
        var reply = ReplyFor(prompt);
        try
        {
            if (reply.Status != 200)
            {
                await AnswerAsync(context, reply, "");
                return;
            }

            var background = (bool?)body?["background"] ?? false;
            var response = new FakeResponse($"resp_fake{Interlocked.Increment(ref responseIds)}", (string?)body?["model"] ?? "fake-model", background, prompt, reply);
            responses[response.Id] = response;
            response.Start();
            if (!background)
            {
                // Not background: the response lives with its request, as OpenAI's does.
                context.RequestAborted.Register(response.Cancel);
            }

            await StreamAsync(context, response, startingAfter: -1);
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

    private async Task GetResponseAsync(HttpContext context, string id)
    {
        var recorded = Record(context, null);
        try
        {
            if (!responses.TryGetValue(id, out var response))
            {
                context.Response.StatusCode = 404;
                await context.Response.WriteAsJsonAsync(new { error = new { message = $"No response found with id '{id}'.", type = "invalid_request_error", code = "not_found" } });
                return;
            }

            var after = int.TryParse(context.Request.Query["starting_after"], CultureInfo.InvariantCulture, out var n) ? n : -1;
            if (context.Request.Query["stream"] == "true")
            {
                await StreamAsync(context, response, after);
            }
            else
            {
                await context.Response.WriteAsync(response.Snapshot().ToJsonString(JsonOptions), context.RequestAborted);
            }
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

    private IResult CancelResponse(HttpContext context, string id)
    {
        Record(context, null);
        if (!responses.TryGetValue(id, out var response))
        {
            return Results.NotFound();
        }

        response.Cancel();
        return Results.Text(response.Snapshot().ToJsonString(JsonOptions), "application/json");
    }

    /// <summary>Every event after <paramref name="startingAfter"/>, as they are generated, until the response ends.</summary>
    private static async Task StreamAsync(HttpContext context, FakeResponse response, int startingAfter)
    {
        var http = context.Response;
        http.ContentType = "text/event-stream";
        http.Headers.CacheControl = "no-cache";
        var served = response.OpenStream();
        var next = startingAfter + 1;
        while (true)
        {
            var (events, ended) = await response.WaitForEventsAsync(next, context.RequestAborted);
            foreach (var (type, data) in events)
            {
                await WriteRawAsync(http, $"event: {type}\ndata: {data.ToJsonString(JsonOptions)}\n\n", context.RequestAborted);
                served(next++);
            }

            if (ended && events.Count == 0)
            {
                return;
            }
        }
    }

    private async Task StopBackgroundResponsesAsync()
    {
        foreach (var response in responses.Values)
        {
            response.Cancel();
        }

        await Task.WhenAll(responses.Values.Select(r => r.Generation));
    }

    /// <summary>
    /// The text of the request's last user input item (or the input itself when it is a string); null when it has none
    /// (a round that sends a tool's result after <c>previous_response_id</c>: its prompt is that response's).
    /// </summary>
    private static string? LastInputText(JsonNode? body) => body?["input"] switch
    {
        JsonValue text => (string?)text,
        JsonArray items => items.LastOrDefault(i => (string?)i?["role"] == "user")?["content"] switch
        {
            JsonValue text => (string?)text,
            JsonArray parts => string.Concat(parts.Select(p => (string?)p?["text"])),
            _ => null,
        },
        _ => null,
    };
}
