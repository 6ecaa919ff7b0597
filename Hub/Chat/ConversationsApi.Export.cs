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

    /// <summary>
    /// The conversation's active branch with every message's status: <c>markdown</c> (the default) or <c>json</c>, written
    /// to the response as it is produced (message by message), never built whole in memory as text or bytes.
    /// </summary>
    private static async Task<Results<PushStreamHttpResult, Ok<ConversationExport>, NotFound, ValidationProblem>> Export(
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
        return TypedResults.Stream(
            body => WriteMarkdownAsync(body, conversation, messages, cancellationToken),
            "text/markdown; charset=utf-8",
            $"conversation-{conversation.Id:N}.md");
    }

    private static async Task WriteMarkdownAsync(Stream body, Conversation conversation, IReadOnlyList<Message> messages, CancellationToken cancellationToken)
    {
        await using var md = new StreamWriter(body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 16 * 1024);
        md.NewLine = "\n";
        await md.WriteLineAsync($"# {conversation.Title.ReplaceLineEndings(" ")}\n".AsMemory(), cancellationToken);
        await md.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"_Exported {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC; created {conversation.CreatedAt:yyyy-MM-dd HH:mm} UTC._\n").AsMemory(), cancellationToken);
        foreach (var message in messages)
        {
            var who = message.Role == MessageRole.User ? "You" : "Assistant";
            var status = message.Status == MessageStatus.Completed ? "" : $" ({message.Status.ToWireName()}{(message.Error is null ? "" : ": " + message.Error)})";
            await md.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"## {who}{status}, {message.CreatedAt:yyyy-MM-dd HH:mm:ss} UTC\n").AsMemory(), cancellationToken);
            await md.WriteLineAsync($"{message.Content}\n".AsMemory(), cancellationToken);
        }
    }
}
