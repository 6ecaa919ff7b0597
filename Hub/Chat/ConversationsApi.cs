using ChatStreaming.Contracts;
using ChatStreaming.Server.Auth;
using ChatStreaming.Server.Security;
using ChatStreaming.Worker.Facade;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ChatStreaming.Server.Chat;

/// <summary>
/// REST reads of the caller's conversations, through the same <see cref="Conversations"/> door as the hub (each rule
/// once). Another user's conversation is a 404, like an unknown id.
/// </summary>
internal static partial class ConversationsApi
{
    public static RouteGroupBuilder MapConversations(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup(ChatHubPaths.Conversations).RequireAuthorization().RequireRateLimiting(RateLimitExtensions.PerUser);
        group.MapGet("/", ListConversations);
        group.MapGet("/{id:guid}/messages", GetMessages);
        group.MapGet("/{id:guid}/export", Export);
        routes.MapGet(ChatHubPaths.Search, Search).RequireAuthorization().RequireRateLimiting(RateLimitExtensions.PerUser);
        routes.MapGet(ChatHubPaths.Models, (Conversations conversations) => TypedResults.Ok(conversations.ListModels()))
            .RequireAuthorization().RequireRateLimiting(RateLimitExtensions.PerUser);
        routes.MapGet(ChatHubPaths.Usage, Usage).RequireAuthorization().RequireRateLimiting(RateLimitExtensions.PerUser);
        return group;
    }

    /// <summary>
    /// The caller's conversations, newest first: at most <paramref name="limit"/> (default and most 200) after the cursor
    /// <paramref name="before"/>; the <c>X-Next-Cursor</c> header holds the next page's cursor (absent at the end).
    /// </summary>
    private static async Task<Results<Ok<IReadOnlyList<Conversation>>, ValidationProblem>> ListConversations(
        string? before, int? limit, HttpResponse response, CurrentUser user, Conversations conversations, CancellationToken cancellationToken)
    {
        var page = await conversations.GetPageAsync(user.Id, before, limit, cancellationToken);
        if (page.Refusal is { } refused)
        {
            return Problem(refused.Field == "before" ? refused with { Message = "before must be the X-Next-Cursor of an earlier page" } : refused);
        }

        if (page.Value.NextCursor is { } next)
        {
            response.Headers["X-Next-Cursor"] = next;
        }

        return TypedResults.Ok(page.Value.Conversations);
    }

    /// <summary>
    /// The newest <paramref name="limit"/> messages (default and most: Chat:SnapshotMessages) before position
    /// <paramref name="before"/>, oldest first; the <c>X-Has-More-Before</c> header says whether older ones exist.
    /// </summary>
    private static async Task<Results<Ok<IReadOnlyList<Message>>, NotFound, ValidationProblem>> GetMessages(
        Guid id, long? before, int? limit, HttpResponse response, CurrentUser user, Conversations conversations, CancellationToken cancellationToken)
    {
        var page = await conversations.GetMessagesAsync(user.Id, id, before, limit, cancellationToken);
        if (page.Refusal is { } refused)
        {
            return refused.Kind == RefusalKind.NotFound ? TypedResults.NotFound() : Problem(refused);
        }

        response.Headers["X-Has-More-Before"] = page.Value.HasMoreBefore ? "true" : "false";
        return TypedResults.Ok(page.Value.Messages);
    }

    /// <summary>The caller's token usage per model for answers that ended in [<paramref name="from"/>, <paramref name="to"/>) (ISO 8601).</summary>
    private static async Task<Results<Ok<IReadOnlyList<ModelUsage>>, ValidationProblem>> Usage(
        DateTimeOffset? from, DateTimeOffset? to, CurrentUser user, Conversations conversations, CancellationToken cancellationToken)
    {
        var usage = await conversations.GetUsageAsync(user.Id, new UsageRequest(from, to), cancellationToken);
        return usage.Refusal is { } refused ? Problem(refused) : TypedResults.Ok(usage.Value);
    }

    private static ValidationProblem Problem(Refusal refusal, string? field = null) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field ?? refusal.Field ?? "request"] = [refusal.Message] });
}
