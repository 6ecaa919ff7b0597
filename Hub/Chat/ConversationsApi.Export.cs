using System.Globalization;
using System.Security.Claims;
using System.Text;
using ChatStreaming.Contracts;
using ChatStreaming.Persistence;
using ChatStreaming.Server.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Server.Chat;

/// <summary>Search and export over REST.</summary>
internal static partial class ConversationsApi
{
    /// <summary>Most messages an export holds (the active branch, oldest first).</summary>
    private const int MaxExportedMessages = 100_000;

    /// <summary>The caller's saved messages matching <paramref name="q"/>, best first (see <see cref="ChatStore.SearchMessagesAsync"/>).</summary>
    private static async Task<Results<Ok<IReadOnlyList<SearchHit>>, ValidationProblem>> Search(
        string? q, int? limit, ClaimsPrincipal user, IOptions<AuthOptions> auth, ChatStore store, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(q) || q.Length > ChatHub.MaxQueryCharacters)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["q"] = [$"q must be 1 to {ChatHub.MaxQueryCharacters} characters"] });
        }

        if (limit is < 1 or > ChatHub.MaxSearchHits)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = [$"limit must be between 1 and {ChatHub.MaxSearchHits}"] });
        }

        return TypedResults.Ok(await store.SearchMessagesAsync(UserId(user, auth), q, limit ?? ChatHub.DefaultSearchHits, null, cancellationToken));
    }

    /// <summary>The conversation's active branch with every message's status: <c>markdown</c> (the default) or <c>json</c>.</summary>
    private static async Task<Results<FileContentHttpResult, Ok<ConversationExport>, NotFound, ValidationProblem>> Export(
        Guid id, string? format, ClaimsPrincipal user, IOptions<AuthOptions> auth, ChatStore store, ConversationReader reader, CancellationToken cancellationToken)
    {
        format ??= "markdown";
        if (format is not ("markdown" or "json"))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["format"] = ["format must be markdown or json"] });
        }

        if (await store.GetConversationAsync(UserId(user, auth), id, cancellationToken) is not { } conversation)
        {
            return TypedResults.NotFound();
        }

        var messages = (await reader.GetMessagesAsync(id, null, MaxExportedMessages, cancellationToken)).Messages;
        if (format == "json")
        {
            return TypedResults.Ok(new ConversationExport(conversation, messages));
        }

        var file = $"conversation-{conversation.Id:N}.md";
        return TypedResults.File(Encoding.UTF8.GetBytes(Markdown(conversation, messages)), "text/markdown; charset=utf-8", file);
    }

    internal static string Markdown(Conversation conversation, IReadOnlyList<Message> messages)
    {
        var md = new StringBuilder();
        md.Append("# ").AppendLine(conversation.Title.ReplaceLineEndings(" ")).AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"_Exported {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC; created {conversation.CreatedAt:yyyy-MM-dd HH:mm} UTC._").AppendLine();
        foreach (var message in messages)
        {
            var who = message.Role == MessageRole.User ? "You" : "Assistant";
            var status = message.Status == MessageStatus.Completed ? "" : $" ({message.Status.ToWireName()}{(message.Error is null ? "" : ": " + message.Error)})";
            md.AppendLine(CultureInfo.InvariantCulture, $"## {who}{status}, {message.CreatedAt:yyyy-MM-dd HH:mm:ss} UTC").AppendLine();
            md.AppendLine(message.Content).AppendLine();
        }

        return md.ToString();
    }
}
