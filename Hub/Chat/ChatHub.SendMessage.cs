using ChatStreaming.Contracts;
using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Server.Chat;

/// <summary>The three ways to start an answer: each is validated here, then one call to <see cref="Worker.Facade.Answers"/>.</summary>
public sealed partial class ChatHub
{
    internal static readonly string ClientMessageIdRule =
        $"clientMessageId must be 1 to {MaxClientMessageIdCharacters} printable ASCII characters (letters, digits, space and punctuation)";

    public Task<SendMessageResult> SendMessage(SendMessageRequest request)
    {
        if (request is null)
        {
            throw new HubException("request is required: { conversationId, content, clientMessageId? }");
        }

        ValidateContent(request.Content);
        ValidateClientMessageId(request.ClientMessageId);
        EnsureCanJoin(request.ConversationId);
        return answers.SendAsync(UserId, request, JoinForSendAsync).OrThrow();
    }

    /// <summary>Like a send, for the question the answer answered: the new answer streams, the old one stays its sibling.</summary>
    public Task<SendMessageResult> RegenerateAnswer(RegenerateAnswerRequest request)
    {
        if (request is null)
        {
            throw new HubException("request is required: { messageId, clientMessageId? }");
        }

        ValidateClientMessageId(request.ClientMessageId);
        return answers.RegenerateAsync(UserId, request, JoinForSendAsync).OrThrow();
    }

    /// <summary>Like a send, as a new version of a user message: the new question and its answer become the active branch.</summary>
    public Task<SendMessageResult> EditMessage(EditMessageRequest request)
    {
        if (request is null)
        {
            throw new HubException("request is required: { messageId, content, clientMessageId? }");
        }

        ValidateContent(request.Content);
        ValidateClientMessageId(request.ClientMessageId);
        return answers.EditAsync(UserId, request, JoinForSendAsync).OrThrow();
    }

    /// <summary>The sender sees its answer: its connection joins the conversation, unless it closed or has no room left.</summary>
    private Task JoinForSendAsync(Guid conversationId) =>
        !Aborted.IsCancellationRequested && (JoinedGroups.Contains(conversationId) || JoinedGroups.Count < options.Value.MaxGroupsPerConnection)
            ? JoinGroupAsync(conversationId)
            : Task.CompletedTask;

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
