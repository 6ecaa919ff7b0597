using System.Net;
using ChatStreaming.Client.Core;
using ChatStreaming.Contracts;
using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Client;

/// <summary>The two ways to use the client: one prompt (scriptable) or a REPL. Errors are one line on stderr.</summary>
internal sealed partial class ConsoleApp(Uri baseUrl, string? user, string? token, bool json, string? model = null, ChatHubProtocol protocol = ChatHubProtocol.Json)
{
    private string? accessToken;

    private readonly CancellationTokenSource quit = new();
    private readonly object interruptLock = new();
    private TaskCompletionSource interrupt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool waitingForAnswer;
    private volatile bool closing;

    public async Task<int> RunAsync(string? prompt, Guid? conversationId, string? search)
    {
        Console.CancelKeyPress += OnCancelKeyPress;
        try
        {
            accessToken = token ?? await DevTokenAsync(user!);
            await using var session = new ChatSession(baseUrl, () => Task.FromResult<string?>(accessToken), protocol: protocol) { Model = model };
            Wire(session);
            await session.StartAsync(quit.Token);
            try
            {
                return (prompt, search) switch
                {
                    (_, { } words) => await SearchAsync(session, words, conversationId),
                    ({ } text, _) => await PromptAsync(session, text, conversationId),
                    _ => await new ConsoleRepl(session, this).RunAsync(quit.Token),
                };
            }
            finally
            {
                closing = true; // the disconnect that follows is ours: not an event worth printing
            }
        }
        catch (HttpRequestException ex) when (ex.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            return Fail($"the hub at {baseUrl} refused the token ({(int)ex.StatusCode})");
        }
        catch (HttpRequestException ex)
        {
            return Fail($"cannot reach the hub at {baseUrl}: {ex.InnerException?.Message ?? ex.Message}");
        }
        catch (HubException ex)
        {
            return Fail(HubErrors.Message(ex));
        }
        catch (OperationCanceledException) when (quit.IsCancellationRequested)
        {
            return 130;
        }
        catch (SignInRefusedException ex)
        {
            return Fail(ex.Status == HttpStatusCode.NotFound ? $"{ex.Message} (use --token)" : ex.Message);
        }
        finally
        {
            Console.CancelKeyPress -= OnCancelKeyPress;
        }
    }

    /// <summary>Sends one message and waits for its answer; Ctrl+C (the first) cancels the answer.</summary>
    internal Task<AnswerState> AskAsync(ChatSession session, string content) =>
        AskAsync(session, () => session.SendAsync(content, quit.Token));

    /// <summary>Starts an answer (a send, a regenerate, an edit) and waits for it; Ctrl+C (the first) cancels it.</summary>
    internal async Task<AnswerState> AskAsync(ChatSession session, Func<Task<SendMessageResult>> start)
    {
        var finished = new TaskCompletionSource<AnswerState>(TaskCreationOptions.RunContinuationsAsynchronously);
        Guid? target = null;
        var done = new List<AnswerState>();
        void OnFinished(AnswerState answer)
        {
            lock (done)
            {
                done.Add(answer);
                if (answer.MessageId == target)
                {
                    finished.TrySetResult(answer);
                }
            }
        }

        session.Finished += OnFinished;
        try
        {
            var sent = await start();
            lock (done)
            {
                target = sent.AssistantMessageId;
                if (done.Find(a => a.MessageId == target) is { } early)
                {
                    finished.TrySetResult(early);
                }
            }

            SetWaiting(true);
            var first = await Task.WhenAny(finished.Task, CurrentInterrupt()).WaitAsync(quit.Token);
            if (first != finished.Task && !await session.CancelAsync(target.Value))
            {
                Console.Error.WriteLine("the answer had already ended; not cancelled");
            }

            return await finished.Task.WaitAsync(quit.Token); // a cancelled answer ends "cancelled" (a second Ctrl+C quits)
        }
        finally
        {
            SetWaiting(false);
            session.Finished -= OnFinished;
        }
    }

    private async Task<int> PromptAsync(ChatSession session, string prompt, Guid? conversationId)
    {
        if (conversationId is { } id)
        {
            await session.OpenAsync(id, quit.Token);
        }
        else
        {
            await session.CreateConversationAsync("console", quit.Token);
        }

        var answer = await AskAsync(session, prompt);
        var finished = answer.Finished!;
        if (!json)
        {
            Console.WriteLine();
        }

        if (finished.Status != MessageStatus.Completed)
        {
            await Console.Error.WriteLineAsync($"answer {finished.Status.ToWireName()}{(finished.Error is null ? "" : $": {finished.Error}")}");
        }

        return ExitCodes.For(finished.Status);
    }

    /// <summary>One search, printed (a line per hit; with --json, one JSON object per line); exit 0.</summary>
    private async Task<int> SearchAsync(ChatSession session, string words, Guid? conversationId)
    {
        var hits = await session.SearchAsync(words, 20, conversationId, quit.Token);
        if (json)
        {
            foreach (var hit in hits)
            {
                WriteJson(new { @event = "hit", hit.ConversationId, hit.ConversationTitle, hit.MessageId, Role = hit.Role.ToWireName(), hit.Snippet, hit.CreatedAt });
            }
        }
        else
        {
            PrintHits(hits);
        }

        return ExitCodes.Completed;
    }

    /// <summary>The conversation's active branch as Markdown or JSON, through REST (GET /api/conversations/{id}/export).</summary>
    internal async Task<string> ExportAsync(Guid conversationId, string format)
    {
        using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await http.GetAsync($"{ChatHubPaths.Conversations}/{conversationId}/export?format={Uri.EscapeDataString(format)}", quit.Token);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new HubException(ChatErrors.ConversationNotFound);
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new HubException($"export refused ({(int)response.StatusCode}): format is markdown or json");
        }

        return await response.Content.ReadAsStringAsync(quit.Token);
    }

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true;
        lock (interruptLock)
        {
            if (waitingForAnswer && !interrupt.Task.IsCompleted)
            {
                interrupt.TrySetResult(); // first Ctrl+C: cancel the answer
                return;
            }
        }

        quit.Cancel(); // idle, or a second Ctrl+C: quit
    }

    private Task CurrentInterrupt()
    {
        lock (interruptLock)
        {
            return interrupt.Task;
        }
    }

    private void SetWaiting(bool waiting)
    {
        lock (interruptLock)
        {
            waitingForAnswer = waiting;
            if (!waiting)
            {
                interrupt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    private async Task<string> DevTokenAsync(string userName)
    {
        using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(15) };
        return (await DevTokens.RequestAsync(http, userName, quit.Token)).AccessToken;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return ExitCodes.Error;
    }
}
