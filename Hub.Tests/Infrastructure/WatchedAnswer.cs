using ChatStreaming.Client.Core;

namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>
/// An answer generated on an instance of its own (a slow simulated model) and watched by the client a user runs
/// (<see cref="ChatSession"/>: dedupe, gap fill, resume) connected at another URL: the setup of the fault tests.
/// </summary>
internal sealed class WatchedAnswer : IAsyncDisposable
{
    private WatchedAnswer(ChatSession session, HubInstance generator, ChatTestClient sender, string token, Task<AnswerState> done, SendMessageResult sent)
    {
        Session = session;
        Generator = generator;
        Sender = sender;
        Token = token;
        Done = done;
        Sent = sent;
    }

    public ChatSession Session { get; }

    public HubInstance Generator { get; }

    public ChatTestClient Sender { get; }

    public string Token { get; }

    /// <summary>Completes when the session has the answer's end.</summary>
    public Task<AnswerState> Done { get; }

    public SendMessageResult Sent { get; }

    /// <summary>
    /// Starts the generator (the cluster's settings, then <paramref name="overrides"/>), the watching session at
    /// <paramref name="watcherUrl"/>, sends, and waits for 5 chunks.
    /// </summary>
    public static async Task<WatchedAnswer> StartAsync(
        ChatCluster cluster, string user, string watcherUrl, int tokensPerSecond, int tokens, string prompt, TimeSpan? quietLimit = null,
        IReadOnlyDictionary<string, string>? overrides = null)
    {
        var settings = cluster.SettingsWith(overrides ?? new Dictionary<string, string>());

        settings["Chat:Model:Simulated:TokensPerSecond"] = tokensPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Chat:Model:Simulated:ResponseTokens"] = tokens.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var generator = await HubInstance.StartAsync(settings);
        var token = await cluster.TokenAsync(user);
        var session = new ChatSession(new Uri(watcherUrl), () => Task.FromResult<string?>(token)) { QuietLimit = quietLimit ?? TimeSpan.FromSeconds(10) };
        await session.StartAsync(CancellationToken.None);
        var conversation = await session.CreateConversationAsync(user, CancellationToken.None);
        var done = new TaskCompletionSource<AnswerState>(TaskCreationOptions.RunContinuationsAsynchronously);
        session.Finished += answer => done.TrySetResult(answer);
        var chunks = 0;
        session.ChunkReceived += _ => Interlocked.Increment(ref chunks);
        var sender = await ChatTestClient.ConnectAsync(generator.Url, token);
        var sent = await sender.SendAsync(conversation.Id, prompt);
        await Wait.UntilAsync(() => Volatile.Read(ref chunks) >= 5, Wait.Default, "the answer did not start");
        return new WatchedAnswer(session, generator, sender, token, done.Task, sent);
    }

    public async ValueTask DisposeAsync()
    {
        await Session.DisposeAsync();
        await Sender.DisposeAsync();
        await Generator.DisposeAsync();
    }
}
