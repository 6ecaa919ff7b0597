using System.Text.Json;
using ChatStreaming.Client.Core;
using Microsoft.JSInterop;

namespace ChatStreaming.Web.Pages;

/// <summary>The chat page's session: signing out, and the development token kept in localStorage.</summary>
public sealed partial class Chat
{
    /// <summary>
    /// Signs out in place (no reload, as the JavaScript page does): nothing of this user stays for the next one to see —
    /// no list, search hits, draft or open conversation, and no <c>#c=</c> in the URL for the next sign-in to open.
    /// </summary>
    private async Task SignOutAsync()
    {
        await JS.InvokeVoidAsync("localStorage.removeItem", SessionKey);
        if (chat is not null)
        {
            await chat.DisposeAsync();
        }

        chat = null;
        signedIn = null;
        conversations = [];
        messages = [];
        answersHtml.Clear();
        hasMoreBefore = false;
        title = null;
        conversationModel = null;
        models = [];
        draft = "";
        connectionText = "";
        error = null;
        hits = null;
        query = "";
        renaming = null;
        renameText = "";
        editing = null;
        editText = "";
        found = null;
        openId = null;
        // The address without its #c=: NavigationManager (read at the next sign-in) then forgets it too.
        Navigation.NavigateTo(new Uri(Navigation.Uri).GetLeftPart(UriPartial.Query), replace: true);
    }

    /// <summary>A development token, renewed a minute before it expires and kept in localStorage.</summary>
    private async Task<string?> TokenAsync()
    {
        if (signedIn is null)
        {
            return null;
        }

        if (signedIn.ExpiresAt - DateTimeOffset.UtcNow < TimeSpan.FromMinutes(1))
        {
            var issued = await DevTokens.RequestAsync(Http, signedIn.UserName, CancellationToken.None);
            signedIn = new StoredSession(signedIn.UserName, issued.AccessToken, issued.ExpiresAt);
            await JS.InvokeVoidAsync("localStorage.setItem", SessionKey, JsonSerializer.Serialize(signedIn, Json));
        }

        return signedIn.AccessToken;
    }

    private sealed record StoredSession(string UserName, string AccessToken, DateTimeOffset ExpiresAt);
}
