using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace ChatStreaming.FakeOpenAI;

/// <summary>
/// One response of the fake Responses API: its events, generated once at the reply's pace by its own loop (a background
/// response goes on when its reader goes away), numbered by <c>sequence_number</c> from 0; and which of them each
/// stream that read it was served.
/// </summary>
public sealed class FakeResponse(string id, string model, bool background, string? prompt, FakeReply reply)
{
    private readonly List<(string Type, JsonObject Data)> events = [];
    private readonly CancellationTokenSource cancel = new();
    private readonly ConcurrentQueue<List<int>> streams = new();
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string status = "queued";
    private int generatedDeltas;

    public string Id { get; } = id;

    public bool Background { get; } = background;

    /// <summary>The request's last user input (a round after a tool's result: the prompt of the response it follows).</summary>
    public string? Prompt { get; } = prompt;

    /// <summary>The generating loop; it ends when the response is completed or cancelled.</summary>
    public Task Generation { get; private set; } = Task.CompletedTask;

    /// <summary>Text deltas generated (each once, whoever reads them).</summary>
    public int GeneratedDeltas => Volatile.Read(ref generatedDeltas);

    /// <summary>The sequence numbers each stream of this response was served, in the order the streams opened.</summary>
    public IReadOnlyList<IReadOnlyList<int>> Streams => [.. streams.Select(s => { lock (s) { return (IReadOnlyList<int>)[.. s]; } })];

    /// <summary>The sequence numbers of the text delta events.</summary>
    public IReadOnlyList<int> DeltaSequences
    {
        get
        {
            lock (events)
            {
                return [.. events.Select((e, i) => (e.Type, i)).Where(e => e.Type == "response.output_text.delta").Select(e => e.i)];
            }
        }
    }

    public string Text => string.Concat(TextDeltas);

    public string Status
    {
        get
        {
            lock (events)
            {
                return status;
            }
        }
    }

    internal void Start() => Generation = GenerateAsync(cancel.Token);

    internal void Cancel() => cancel.Cancel();

    /// <summary>A new stream of this response: call the result with each sequence number it serves.</summary>
    internal Action<int> OpenStream()
    {
        var served = new List<int>();
        streams.Enqueue(served);
        return sequence =>
        {
            lock (served)
            {
                served.Add(sequence);
            }
        };
    }

    /// <summary>The events from <paramref name="from"/> on once there are any (or the response ended: then maybe none).</summary>
    internal async Task<(List<(string Type, JsonObject Data)> Events, bool Ended)> WaitForEventsAsync(int from, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (events)
            {
                var ended = status is "completed" or "cancelled" or "failed";
                if (events.Count > from || ended)
                {
                    return ([.. events.Skip(Math.Max(from, 0)).Select(e => (e.Type, (JsonObject)e.Data.DeepClone()))], ended);
                }

                wait = changed.Task;
            }

            await wait.WaitAsync(cancellationToken);
        }
    }

    /// <summary>The response object as it stands.</summary>
    internal JsonObject Snapshot()
    {
        lock (events)
        {
            return ResponseObject(status, status == "completed" ? Output() : [], status == "completed" ? Usage() : null);
        }
    }

    private async Task GenerateAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        if (reply.CreatedDelay > TimeSpan.Zero)
        {
            await Task.Delay(reply.CreatedDelay, CancellationToken.None); // nobody knows its id to cancel it yet
        }

        Add("response.created", new JsonObject { ["response"] = ResponseObject("queued", [], null) });
        Add("response.in_progress", new JsonObject { ["response"] = ResponseObject("in_progress", [], null) }, "in_progress");
        try
        {
            if (HasMessage)
            {
                await StreamTextAsync(cancellationToken);
            }

            if (reply.ToolCall is { } call)
            {
                await CallToolAsync(call, HasMessage ? 1 : 0, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            Add("response.cancelled", new JsonObject { ["response"] = ResponseObject("cancelled", [], null) }, "cancelled");
            return;
        }

        Add("response.completed", new JsonObject { ["response"] = ResponseObject("completed", Output(), Usage()) }, "completed");
    }

    /// <summary>The text of the response: the reply's deltas, or with a tool call, what the model says before it.</summary>
    private IReadOnlyList<string> TextDeltas => reply.ToolCall is null ? reply.Deltas : reply.Preamble;

    /// <summary>A message output item: always without a tool call, with one only when the model says something first.</summary>
    private bool HasMessage => reply.ToolCall is null || reply.Preamble.Count > 0;

    /// <summary>The completed response's output items.</summary>
    private JsonArray Output()
    {
        var output = new JsonArray();
        if (HasMessage)
        {
            output.Add(Message("completed"));
        }

        if (reply.ToolCall is { } call)
        {
            output.Add(FunctionCall(call, "completed", call.ArgumentsJson));
        }

        return output;
    }

    /// <summary>The message output item (index 0), its text deltas at the reply's pace.</summary>
    private async Task StreamTextAsync(CancellationToken cancellationToken)
    {
        var itemId = $"msg_{Id}";
        var deltas = TextDeltas;
        Add("response.output_item.added", new JsonObject { ["output_index"] = 0, ["item"] = Message("in_progress") });
        Add("response.content_part.added", new JsonObject { ["item_id"] = itemId, ["output_index"] = 0, ["content_index"] = 0, ["part"] = Part("") });
        for (var i = 0; i < deltas.Count; i++)
        {
            var wait = reply.WaitBefore(i);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            if (i == reply.StallAfter)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken); // in progress but silent, until cancelled
            }

            cancellationToken.ThrowIfCancellationRequested();
            Interlocked.Increment(ref generatedDeltas);
            Add("response.output_text.delta", new JsonObject
            {
                ["item_id"] = itemId, ["output_index"] = 0, ["content_index"] = 0, ["delta"] = deltas[i], ["logprobs"] = new JsonArray(),
            });
        }

        Add("response.output_text.done", new JsonObject
        {
            ["item_id"] = itemId, ["output_index"] = 0, ["content_index"] = 0, ["text"] = Text, ["logprobs"] = new JsonArray(),
        });
        Add("response.content_part.done", new JsonObject { ["item_id"] = itemId, ["output_index"] = 0, ["content_index"] = 0, ["part"] = Part(Text) });
        Add("response.output_item.done", new JsonObject { ["output_index"] = 0, ["item"] = Message("completed") });
    }

    /// <summary>
    /// The reply's tool call as the Responses API streams it: a <c>function_call</c> output item at
    /// <paramref name="index"/>, its arguments in two pieces, then the item done (after <see cref="FakeReply.FirstDelay"/>
    /// when nothing came before it, else <see cref="FakeReply.Delay"/>).
    /// </summary>
    private async Task CallToolAsync(FakeToolCall call, int index, CancellationToken cancellationToken)
    {
        var itemId = $"fc_{Id}";
        Add("response.output_item.added", new JsonObject { ["output_index"] = index, ["item"] = FunctionCall(call, "in_progress", "") });
        var wait = reply.WaitBefore(index == 0 ? 0 : 1);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken);
        }

        var half = call.ArgumentsJson.Length / 2;
        foreach (var piece in new[] { call.ArgumentsJson[..half], call.ArgumentsJson[half..] })
        {
            Add("response.function_call_arguments.delta", new JsonObject { ["item_id"] = itemId, ["output_index"] = index, ["delta"] = piece });
        }

        Add("response.function_call_arguments.done", new JsonObject { ["item_id"] = itemId, ["output_index"] = index, ["arguments"] = call.ArgumentsJson });
        Add("response.output_item.done", new JsonObject { ["output_index"] = index, ["item"] = FunctionCall(call, "completed", call.ArgumentsJson) });
    }

    private JsonObject FunctionCall(FakeToolCall call, string state, string arguments) => new()
    {
        ["id"] = $"fc_{Id}",
        ["type"] = "function_call",
        ["status"] = state,
        ["call_id"] = call.CallId,
        ["name"] = call.Name,
        ["arguments"] = arguments,
    };

    private void Add(string type, JsonObject data, string? newStatus = null)
    {
        lock (events)
        {
            data["type"] = type;
            data["sequence_number"] = events.Count;
            events.Add((type, data));
            status = newStatus ?? status;
            changed.TrySetResult();
            changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    private JsonObject ResponseObject(string state, JsonArray output, JsonObject? usage) => new()
    {
        ["id"] = Id,
        ["object"] = "response",
        ["created_at"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        ["status"] = state,
        ["background"] = Background,
        ["error"] = null,
        ["incomplete_details"] = null,
        ["model"] = model,
        ["output"] = output,
        ["parallel_tool_calls"] = true,
        ["store"] = true,
        ["text"] = new JsonObject { ["format"] = new JsonObject { ["type"] = "text" } },
        ["tool_choice"] = "auto",
        ["tools"] = new JsonArray(),
        ["usage"] = usage,
        ["metadata"] = new JsonObject(),
    };

    private JsonObject Message(string state) => new()
    {
        ["id"] = $"msg_{Id}",
        ["type"] = "message",
        ["status"] = state,
        ["role"] = "assistant",
        ["content"] = state == "completed" ? new JsonArray(Part(Text)) : new JsonArray(),
    };

    private static JsonObject Part(string text) => new() { ["type"] = "output_text", ["text"] = text, ["annotations"] = new JsonArray() };

    private JsonObject Usage() => new()
    {
        ["input_tokens"] = 11,
        ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = 0 },
        ["output_tokens"] = OutputTokens,
        ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0 },
        ["total_tokens"] = 11 + OutputTokens,
    };

    private int OutputTokens => TextDeltas.Count + (reply.ToolCall is null ? 0 : 1);
}
