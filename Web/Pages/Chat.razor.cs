using System.Text.Json;
using ChatStreaming.Client.Core;
using ChatStreaming.Contracts;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.SignalR;
using Microsoft.JSInterop;

namespace ChatStreaming.Web.Pages;

/// <summary>
/// The Blazor chat page: the same features as the browser page at "/", on the shared .NET client logic
/// (<see cref="ChatSession"/>: join, resume, dedupe).
/// </summary>
public sealed partial class Chat
{
    private const string SessionKey = "chatstreaming.session"; // shared with the JavaScript page on the same origin

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private ChatSession? chat;
    private StoredSession? signedIn;
    private IReadOnlyList<Conversation> conversations = [];
    private List<Message> messages = [];
    private bool hasMoreBefore;
    private string? title;
    private string? conversationModel;
    private int navigations; // conversations opened so far: the start-up restore from the URL yields to one the user opened
    private IReadOnlyList<ModelInfo> models = [];
    private string userName = "";
    private string draft = "";
    private string connectionText = "";
    private string? error;

    [Inject]
    private HttpClient Http { get; set; } = null!;

    [Inject]
    private IJSRuntime JS { get; set; } = null!;

    [Inject]
    private NavigationManager Navigation { get; set; } = null!;

    private IEnumerable<Guid> Streaming => chat?.Streaming() ?? [];

    protected override async Task OnInitializedAsync()
    {
        var stored = await JS.InvokeAsync<string?>("localStorage.getItem", SessionKey);
        if (stored is not null && JsonSerializer.Deserialize<StoredSession>(stored, Json) is { UserName.Length: > 0 } session)
        {
            userName = session.UserName;
            signedIn = session;
            await RunAsync(StartAsync);
        }
    }

    private Task SignInAsync() => RunAsync(async () =>
    {
        signedIn = new StoredSession(userName.Trim(), "", DateTimeOffset.MinValue);
        await TokenAsync();
        await StartAsync();
    });

    private async Task StartAsync()
    {
        // ?protocol=messagepack picks the binary hub protocol (the same fields, docs/protocol.md); JSON otherwise.
        var protocol = new Uri(Navigation.Uri).Query.Contains("protocol=messagepack", StringComparison.OrdinalIgnoreCase) ? ChatHubProtocol.MessagePack : ChatHubProtocol.Json;
        chat = new ChatSession(Http.BaseAddress!, TokenAsync, protocol: protocol);
        chat.TextAppended += (_, _) => RefreshText();
        chat.PartReceived += (_, _) => RefreshText();
        chat.Finished += _ => Refresh();
        chat.Resumed += _ => Refresh();
        chat.Started += started => Refresh(() =>
        {
            if (started.ConversationId != chat.ConversationId || messages.Any(m => m.Id == started.MessageId))
            {
                return;
            }

            if (messages.LastOrDefault()?.Id == started.UserMessageId)
            {
                messages.Add(new Message(started.MessageId, started.ConversationId, MessageRole.Assistant, "", MessageStatus.Streaming, DateTimeOffset.UtcNow, null, 0,
                    ParentId: started.UserMessageId, SiblingIds: [started.MessageId]));
            }
            else
            {
                Reopen(); // a new answer beside an earlier one (a regenerate): the branch changed
            }
        });
        chat.MessageAdded += message => Refresh(() =>
        {
            if (message.ConversationId != chat.ConversationId || messages.Any(m => m.Id == message.Id))
            {
                return;
            }

            if (message.ParentId == messages.LastOrDefault()?.Id)
            {
                messages.Add(message);
            }
            else
            {
                Reopen(); // an edit: a question beside an earlier one
            }
        });
        chat.ConversationChanged += change => Refresh(() => OnConversationChanged(change));
        // Joined again after a reconnect (or by the watchdog): what came meanwhile is only in the snapshot. Redrawn only
        // when it holds a message the page does not show: the watchdog rejoins every 10 s while an answer is quiet (a
        // model thinking), and a redraw would close an edit in progress.
        chat.Rejoined += snapshot => _ = InvokeAsync(() => RunAsync(async () =>
        {
            if (snapshot.Conversation.Id == chat?.ConversationId && snapshot.Messages.Any(m => messages.All(shown => shown.Id != m.Id)))
            {
                await OpenCoreAsync(snapshot.Conversation.Id, snapshot);
            }

            StateHasChanged();
        }));
        chat.StateChanged += state => Refresh(() => connectionText = state switch
        {
            "reconnecting" => "Connection lost, reconnecting…",
            "reconnected" => "Connected",
            _ => "Disconnected",
        });
        connectionText = "Connecting…";
        await chat.StartAsync(CancellationToken.None);
        connectionText = "Connected";
        var fragment = new Uri(Navigation.Uri).Fragment;
        var opened = navigations;
        models = await chat.ListModelsAsync(CancellationToken.None);
        await RefreshConversationsAsync();
        // The conversation in the URL, unless the user opened or created one meanwhile (theirs wins).
        if (fragment.StartsWith("#c=", StringComparison.Ordinal) && Guid.TryParse(fragment[3..], out var id) && navigations == opened)
        {
            await OpenAsync(id);
        }
    }

    private Task OpenAsync(Guid conversationId) => RunAsync(() => OpenCoreAsync(conversationId, null));

    /// <summary>Opens the conversation (or shows <paramref name="snapshot"/>, already joined): its active branch, oldest first.</summary>
    private async Task OpenCoreAsync(Guid conversationId, ConversationSnapshot? snapshot)
    {
        navigations++;
        snapshot ??= await chat!.OpenAsync(conversationId, CancellationToken.None);
        title = snapshot.Conversation.Title;
        conversationModel = snapshot.Conversation.Model;
        messages = [.. snapshot.Messages];
        answersHtml.Clear(); // what the last conversation showed
        hasMoreBefore = snapshot.HasMoreBefore;
        found = null;
        editing = null;
        openId = conversationId;
        await JS.InvokeVoidAsync("history.replaceState", null, "", $"#c={conversationId}");
        await RefreshConversationsAsync();
    }

    /// <summary>The page before the first message shown, put above it.</summary>
    private Task LoadEarlierAsync() => RunAsync(LoadEarlierCoreAsync);

    private async Task LoadEarlierCoreAsync()
    {
        var page = await chat!.LoadEarlierAsync(messages.Where(m => m.Position > 0).Select(m => m.Position).DefaultIfEmpty(long.MaxValue).Min(), CancellationToken.None);
        messages.InsertRange(0, page.Messages.Where(m => messages.All(shown => shown.Id != m.Id)));
        hasMoreBefore = page.HasMoreBefore;
    }

    private Task NewConversationAsync() => RunAsync(async () =>
    {
        var conversation = await chat!.CreateConversationAsync($"Conversation {DateTime.Now:T}", CancellationToken.None);
        await OpenAsync(conversation.Id);
    });

    private Task SendAsync() => RunAsync(async () =>
    {
        var content = draft.Trim();
        if (content.Length == 0 || chat?.ConversationId is null)
        {
            return;
        }

        draft = "";
        try
        {
            await chat.SendAsync(content, CancellationToken.None);
        }
        catch
        {
            draft = content; // nothing was sent: keep what the user typed
            throw;
        }
    });

    private Task StopAsync() => RunAsync(async () =>
    {
        foreach (var messageId in Streaming.ToList())
        {
            await chat!.CancelAsync(messageId);
        }
    });

    /// <summary>The conversation's model from the picker ("" = the default); every tab of the user is told.</summary>
    private Task ChangeModelAsync(ChangeEventArgs change) => RunAsync(async () =>
    {
        var changed = await chat!.SetConversationModelAsync(chat.ConversationId!.Value, change.Value as string ?? "", null, CancellationToken.None);
        conversationModel = changed.Model;
    });

    private string Badge(AnswerState? answer)
    {
        // An answer another server carried on after its own stopped says so, discreetly.
        var resumed = answer?.ResumedFrom is null ? "" : " · resumed after a server restart";
        if (answer?.Finished is not { } finished)
        {
            return $"Streaming…{resumed}";
        }

        var words = finished.Status switch
        {
            MessageStatus.Completed => "Completed",
            MessageStatus.Cancelled => "Cancelled",
            MessageStatus.Failed => "Failed",
            _ => "Interrupted",
        };
        var reason = finished.FinishReason is { } r && r != "stop" ? $" ({r})" : "";
        var model = finished.Model is { } name && models.Count > 1 ? $" · {name}" : ""; // which model, when there is a choice
        return $"{words}{reason}{(finished.Error is null ? "" : $": {finished.Error}")}{model}{resumed}";
    }

    private string StatusLine()
    {
        if (Streaming.Any())
        {
            return "Streaming…";
        }

        var last = messages.LastOrDefault(m => m.Role == MessageRole.Assistant);
        return last is null ? "" : Badge(chat?.Find(last.Id)).Split(':')[0];
    }

    private void Refresh(Action? change = null) => _ = InvokeAsync(() =>
    {
        change?.Invoke();
        StateHasChanged();
    });

    private async Task RunAsync(Func<Task> action)
    {
        error = null;
        try
        {
            await action();
        }
        catch (HubException ex)
        {
            error = HubErrors.Message(ex);
        }
        catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException)
        {
            error = ex.Message;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (chat is not null)
        {
            await chat.DisposeAsync();
        }
    }
}
