using System.Globalization;
using System.Text;
using ChatStreaming.Contracts;
using ChatStreaming.Server.Auth;
using ChatStreaming.Worker.Facade;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ChatStreaming.Server.Chat;

/// <summary>Search and export over REST.</summary>
internal static partial class ConversationsApi
{
    /// <summary>The caller's saved messages matching <paramref name="q"/>, best first.</summary>
    private static async Task<Results<Ok<IReadOnlyList<SearchHit>>, ValidationProblem>> Search(
        string? q, int? limit, CurrentUser user, Conversations conversations, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(q) || q.Length > Conversations.MaxQueryCharacters)
        {
            return Problem(Refusal.Invalid("q", $"q must be 1 to {Conversations.MaxQueryCharacters} characters"));
        }

        var hits = await conversations.SearchAsync(user.Id, new SearchMessagesRequest(q, limit), cancellationToken);
        return hits.Refusal is { } refused ? Problem(refused) : TypedResults.Ok(hits.Value);
    }

    /// <summary>The conversation's active branch with every message's status: <c>markdown</c> (the default) or <c>json</c>.</summary>
    private static async Task<Results<FileContentHttpResult, Ok<ConversationExport>, NotFound, ValidationProblem>> Export(
        Guid id, string? format, CurrentUser user, Conversations conversations, CancellationToken cancellationToken)
    {
        format ??= "markdown";
        if (format is not ("markdown" or "json"))
        {
            return Problem(Refusal.Invalid("format", "format must be markdown or json"));
        }

        var export = await conversations.ExportAsync(user.Id, id, cancellationToken);
        if (export.Refusal is not null)
        {
            return TypedResults.NotFound();
        }

        if (format == "json")
        {
            return TypedResults.Ok(export.Value);
        }

        var (conversation, messages) = (export.Value.Conversation, export.Value.Messages);
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
