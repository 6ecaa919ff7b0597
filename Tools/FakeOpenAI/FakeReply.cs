namespace ChatStreaming.FakeOpenAI;

/// <summary>
/// What the fake server does with one chat completion request. By default: stream <see cref="Deltas"/> with
/// <see cref="Delay"/> between them, a finish reason, a usage chunk, then <c>[DONE]</c>.
/// </summary>
public sealed record FakeReply
{
    public IReadOnlyList<string> Deltas { get; init; } = ["Hello", " from", " the", " fake", " model."];

    /// <summary>Streamed first, as <c>delta.reasoning_content</c> (the field OpenAI-compatible reasoning models use).</summary>
    public IReadOnlyList<string> Reasoning { get; init; } = [];

    /// <summary>
    /// When set, the reply is a call of this tool (streamed as <c>delta.tool_calls</c>, its arguments in two pieces, then
    /// finish reason <c>tool_calls</c>) after <see cref="Reasoning"/>, instead of <see cref="Deltas"/>; through the
    /// Responses API, a <c>function_call</c> output item, after <see cref="FirstDelay"/>.
    /// </summary>
    public FakeToolCall? ToolCall { get; init; }

    /// <summary>With <see cref="ToolCall"/>, through the Responses API: text the model says before its call (a message output item first).</summary>
    public IReadOnlyList<string> Preamble { get; init; } = [];

    public TimeSpan Delay { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>How long the model thinks before its first delta (none by default).</summary>
    public TimeSpan FirstDelay { get; init; }

    /// <summary>
    /// How long the Responses API takes to accept the request: its first event (<c>response.created</c>, which carries
    /// the response's id) comes after it; the response exists (and can be cancelled) from the request on.
    /// </summary>
    public TimeSpan CreatedDelay { get; init; }

    /// <summary>The wait before delta <paramref name="index"/>: <see cref="FirstDelay"/>, then <see cref="Delay"/>.</summary>
    public TimeSpan WaitBefore(int index) => index == 0 ? FirstDelay : Delay;

    /// <summary>A status other than 200 answers with an OpenAI-style error body instead of a stream.</summary>
    public int Status { get; init; } = 200;

    /// <summary>Sent as the Retry-After header (whole seconds) with an error status.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>Abort the TCP connection after this many deltas.</summary>
    public int? DropAfter { get; init; }

    /// <summary>
    /// End the response cleanly after this many deltas, as a gateway that cuts a stream at an event boundary does: no
    /// finish reason, no usage, no <c>[DONE]</c>, and the HTTP response itself complete.
    /// </summary>
    public int? EndAfter { get; init; }

    /// <summary>
    /// Stop sending (but keep the connection open) after this many deltas; a response of the Responses API stays in
    /// progress, silent, until it is cancelled.
    /// </summary>
    public int? StallAfter { get; init; }

    /// <summary>Send a chunk that is not JSON after this many deltas.</summary>
    public int? MalformedAfter { get; init; }

    public string FinishReason { get; init; } = "stop";

    public bool IncludeUsage { get; init; } = true;

    /// <summary>An answer of <paramref name="count"/> word tokens paced at <paramref name="tokensPerSecond"/> (0 = no pause).</summary>
    public static FakeReply Tokens(int count, double tokensPerSecond) => new()
    {
        Deltas = [.. Enumerable.Range(0, count).Select(i => Words[i % Words.Length] + (i == count - 1 ? "." : " "))],
        Delay = tokensPerSecond > 0 ? TimeSpan.FromSeconds(1 / tokensPerSecond) : TimeSpan.Zero,
    };

    private static readonly string[] Words = ["Streaming", "through", "Redis", "keeps", "every", "word", "in", "order", "and", "once"];
}
