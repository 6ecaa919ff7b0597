using ChatStreaming.Client.Core;
using ChatStreaming.Contracts;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.JSInterop;

namespace ChatStreaming.Web.Pages;

/// <summary>The page's conversation management: the live list, rename, delete, search, regenerate, edit, branches.</summary>
public sealed partial class Chat
{
    private IReadOnlyList<SearchHit>? hits;
    private string query = "";
    private Guid? renaming;
    private string renameText = "";
    private Guid? editing;
    private string editText = "";
    private Guid? found;
    private Guid? openId; // the conversation shown (the session forgets a deleted one before the page hears of it)

    private async Task RefreshConversationsAsync() =>
        conversations = (await chat!.GetConversationsAsync(null, 200, CancellationToken.None)).Conversations;

    private void OnConversationChanged(ConversationChange change)
    {
        if (change.Kind == ConversationChangeKind.Deleted && change.ConversationId == openId)
        {
            CloseConversation();
        }

        if (change.Kind == ConversationChangeKind.Updated && change.ConversationId == chat?.ConversationId)
        {
            title = change.Conversation!.Title;
            conversationModel = change.Conversation.Model;
        }

        _ = RunAsync(async () =>
        {
            await RefreshConversationsAsync();
            StateHasChanged();
        });
    }

    private void CloseConversation()
    {
        title = null;
        openId = null;
        messages = [];
        hasMoreBefore = false;
        _ = JS.InvokeVoidAsync("history.replaceState", null, "", "#").AsTask();
    }

    /// <summary>The branch changed under the page (another answer or question beside an earlier one): show it again.</summary>
    private void Reopen()
    {
        if (chat?.ConversationId is { } id)
        {
            _ = RunAsync(async () =>
            {
                await OpenCoreAsync(id, null);
                StateHasChanged();
            });
        }
    }

    private void StartRename(Conversation conversation)
    {
        renaming = conversation.Id;
        renameText = conversation.Title;
    }

    private async Task RenameKeyAsync(KeyboardEventArgs e, Conversation conversation)
    {
        if (e.Key == "Enter")
        {
            await FinishRenameAsync(conversation, true);
        }
        else if (e.Key == "Escape")
        {
            await FinishRenameAsync(conversation, false);
        }
    }

    private Task FinishRenameAsync(Conversation conversation, bool save) => RunAsync(async () =>
    {
        if (renaming != conversation.Id)
        {
            return; // Enter finished it; this is the blur that followed
        }

        renaming = null;
        if (save && renameText.Trim() != conversation.Title)
        {
            var renamed = await chat!.RenameConversationAsync(conversation.Id, renameText, CancellationToken.None);
            if (renamed.Id == chat.ConversationId)
            {
                title = renamed.Title;
            }
        }

        await RefreshConversationsAsync();
    });

    private Task DeleteAsync(Conversation conversation) => RunAsync(async () =>
    {
        if (!await JS.InvokeAsync<bool>("confirm", $"Delete “{conversation.Title}” and all its messages? This cannot be undone."))
        {
            return;
        }

        var wasOpen = chat!.ConversationId == conversation.Id;
        await chat.DeleteConversationAsync(conversation.Id, CancellationToken.None);
        if (wasOpen)
        {
            CloseConversation();
        }

        await RefreshConversationsAsync();
    });

    private Task SearchAsync() => RunAsync(async () =>
        hits = string.IsNullOrWhiteSpace(query) ? null : await chat!.SearchAsync(query, 20, null, CancellationToken.None));

    /// <summary>Opens a search hit's conversation at its message: paging back for it, or moving to its branch.</summary>
    private Task OpenAtAsync(SearchHit hit) => RunAsync(async () =>
    {
        await OpenCoreAsync(hit.ConversationId, null);
        while (messages.All(m => m.Id != hit.MessageId) && hasMoreBefore)
        {
            await LoadEarlierCoreAsync();
        }

        if (messages.All(m => m.Id != hit.MessageId))
        {
            await OpenCoreAsync(hit.ConversationId, await chat!.SelectBranchAsync(hit.MessageId, CancellationToken.None));
        }

        found = hit.MessageId;
        StateHasChanged();
        await JS.InvokeVoidAsync("chatScrollTo", $"li[data-message-id='{hit.MessageId}']");
    });

    private Task RegenerateAsync(Guid answerId) => RunAsync(async () =>
    {
        await chat!.RegenerateAsync(answerId, CancellationToken.None);
        await OpenCoreAsync(chat.ConversationId!.Value, null);
    });

    private void StartEdit(Message message)
    {
        editing = message.Id;
        editText = message.Content;
    }

    private Task SaveEditAsync() => RunAsync(async () =>
    {
        if (editing is not { } messageId || string.IsNullOrWhiteSpace(editText))
        {
            return;
        }

        editing = null;
        await chat!.EditAsync(messageId, editText.Trim(), CancellationToken.None);
        await OpenCoreAsync(chat.ConversationId!.Value, null);
    });

    private Task SelectBranchAsync(Guid messageId) => RunAsync(async () =>
        await OpenCoreAsync(chat!.ConversationId!.Value, await chat.SelectBranchAsync(messageId, CancellationToken.None)));
}
