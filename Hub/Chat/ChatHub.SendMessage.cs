using ChatStreaming.Contracts;
using ChatStreaming.Server.Telemetry;
using ChatStreaming.Worker.Intake;
using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Server.Chat;

public sealed partial class ChatHub
{
    /// <summary>
    /// Validate → accept (admit, save) → join the conversation → announce → start (register, queue). Joining and announcing
    /// go through Redis and are best effort: a failure there must not strand an answer that is already saved,
    /// so it is logged and the send goes on (the client still has the ids, and catches up from the replay buffer).
    /// </summary>
    public async Task<SendMessageResult> SendMessage(SendMessageRequest request)
    {
        Validate(request);
        EnsureCanJoin(request.ConversationId);
        if (request.Model is { } model)
        {
            request = request with { Model = ModelName(model) };
        }

        return await StartExchangeAsync(await intake.AcceptAsync(UserId, request), announceQuestion: true);
    }

    /// <summary>Like a send, for the question the answer answered: the new answer streams, the old one stays its sibling.</summary>
    public async Task<SendMessageResult> RegenerateAnswer(RegenerateAnswerRequest request)
    {
        if (request is null)
        {
            throw new HubException("request is required: { messageId, clientMessageId? }");
        }

        ValidateClientMessageId(request.ClientMessageId);
        return await StartExchangeAsync(await intake.AcceptRegenerationAsync(UserId, request), announceQuestion: false);
    }

    /// <summary>Like a send, as a new version of a user message: the new question and its answer become the active branch.</summary>
    public async Task<SendMessageResult> EditMessage(EditMessageRequest request)
    {
        if (request is null)
        {
            throw new HubException("request is required: { messageId, content, clientMessageId? }");
        }

        ValidateContent(request.Content);
        ValidateClientMessageId(request.ClientMessageId);
        return await StartExchangeAsync(await intake.AcceptEditAsync(UserId, request), announceQuestion: true);
    }

    private async Task<SendMessageResult> StartExchangeAsync(IntakeResult intakeResult, bool announceQuestion)
    {
        var accepted = intakeResult switch
        {
            AcceptedExchange exchange => exchange,
            RefusedSend refused => throw new HubException(refused.Reason),
            var other => throw new InvalidOperationException($"unexpected intake result {other}"),
        };
        if (!Aborted.IsCancellationRequested && (JoinedGroups.Contains(accepted.ConversationId) || JoinedGroups.Count < options.Value.MaxGroupsPerConnection))
        {
            await BestEffortAsync("JoinConversation", () => JoinGroupAsync(accepted.ConversationId));
        }

        if (!accepted.IsNew)
        {
            return accepted.Result; // a repeat of a send that was accepted: same ids, its answer's status now, nothing new started
        }

        if (announceQuestion)
        {
            await BestEffortAsync(nameof(IChatHubClient.MessageAdded), () => broadcaster.MessageAddedAsync(accepted.Exchange.UserMessage));
        }

        if (await intake.StartAsync(accepted) is { } refusal)
        {
            throw new HubException(refusal.Reason);
        }

        return accepted.Result;
    }

    /// <summary>At most <see cref="BestEffortWait"/>: a stuck Redis never holds back an answer that is saved.</summary>
    private async Task BestEffortAsync(string step, Func<Task> action)
    {
        try
        {
            await action().WaitAsync(BestEffortWait);
        }
        catch (Exception ex) // including the caller having gone: its answer is saved and must start all the same
        {
            ServerLog.SendStepFailed(logger, ex, step);
        }
    }

    private static readonly TimeSpan BestEffortWait = TimeSpan.FromSeconds(5);

    internal static readonly string ClientMessageIdRule =
        $"clientMessageId must be 1 to {MaxClientMessageIdCharacters} printable ASCII characters (letters, digits, space and punctuation)";

    private void Validate(SendMessageRequest? request)
    {
        if (request is null)
        {
            throw new HubException("request is required: { conversationId, content, clientMessageId? }");
        }

        ValidateContent(request.Content);
        ValidateClientMessageId(request.ClientMessageId);
    }

    private void ValidateContent(string? content)
    {
        if (string.IsNullOrWhiteSpace(content))
        {
            throw new HubException("content must not be empty");
        }

        var limit = options.Value.MaxMessageCharacters;
        if (content.Length > limit)
        {
            throw new HubException($"content is {content.Length} characters; the limit is {limit}");
        }
    }

    private static void ValidateClientMessageId(string? clientMessageId)
    {
        if (clientMessageId is { } key && (key.Length is 0 or > MaxClientMessageIdCharacters || !key.All(c => c is >= ' ' and <= '~')))
        {
            throw new HubException(ClientMessageIdRule);
        }
    }
}
