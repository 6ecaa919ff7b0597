using ChatStreaming.Contracts;
using ChatStreaming.Persistence;
using System.Security.Claims;
using ChatStreaming.Server.Auth;
using ChatStreaming.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using ChatStreaming.Worker;
using ChatStreaming.Worker.Model;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Server.Chat;

/// <summary>REST reads of the caller's conversations. Another user's conversation is a 404, like an unknown id.</summary>
internal static partial class ConversationsApi
{
    public static RouteGroupBuilder MapConversations(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup(ChatHubPaths.Conversations).RequireAuthorization().RequireRateLimiting(RateLimitExtensions.PerUser);
        group.MapGet("/", ListConversations);
        group.MapGet("/{id:guid}/messages", GetMessages);
        group.MapGet("/{id:guid}/export", Export);
        routes.MapGet(ChatHubPaths.Search, Search).RequireAuthorization().RequireRateLimiting(RateLimitExtensions.PerUser);
        routes.MapGet(ChatHubPaths.Models, (ModelCatalog models) => TypedResults.Ok(models.List()))
            .RequireAuthorization().RequireRateLimiting(RateLimitExtensions.PerUser);
        routes.MapGet(ChatHubPaths.Usage, Usage).RequireAuthorization().RequireRateLimiting(RateLimitExtensions.PerUser);
        return group;
    }

    /// <summary>
    /// The caller's conversations, newest first: at most <paramref name="limit"/> (default and most 200) after the cursor
    /// <paramref name="before"/>; the <c>X-Next-Cursor</c> header holds the next page's cursor (absent at the end).
    /// </summary>
    private static async Task<Results<Ok<IReadOnlyList<Conversation>>, ValidationProblem>> ListConversations(
        string? before, int? limit, HttpResponse response, ClaimsPrincipal user, IOptions<AuthOptions> auth, ChatStore store, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > ChatHub.MaxListedConversations)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = [$"limit must be between 1 and {ChatHub.MaxListedConversations}"] });
        }

        try
        {
            var (conversations, next) = await store.GetConversationPageAsync(UserId(user, auth), before, limit ?? ChatHub.MaxListedConversations, cancellationToken);
            if (next is not null)
            {
                response.Headers["X-Next-Cursor"] = next;
            }

            return TypedResults.Ok(conversations);
        }
        catch (FormatException)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["before"] = ["before must be the X-Next-Cursor of an earlier page"] });
        }
    }

    /// <summary>
    /// The newest <paramref name="limit"/> messages (default and most: Chat:SnapshotMessages) before position
    /// <paramref name="before"/>, oldest first; the <c>X-Has-More-Before</c> header says whether older ones exist.
    /// </summary>
    private static async Task<Results<Ok<IReadOnlyList<Message>>, NotFound, ValidationProblem>> GetMessages(
        Guid id, long? before, int? limit, HttpResponse response, ClaimsPrincipal user, IOptions<AuthOptions> auth, IOptions<ChatStreamingOptions> chat,
        ChatStore store, ConversationReader reader, CancellationToken cancellationToken)
    {
        var max = chat.Value.SnapshotMessages;
        if (limit is < 1 || limit > max)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = [$"limit must be between 1 and {max}"] });
        }

        if (await store.GetConversationAsync(UserId(user, auth), id, cancellationToken) is null)
        {
            return TypedResults.NotFound();
        }

        var page = await reader.GetMessagesAsync(id, before, limit ?? max, cancellationToken);
        response.Headers["X-Has-More-Before"] = page.HasMoreBefore ? "true" : "false";
        return TypedResults.Ok(page.Messages);
    }

    /// <summary>The caller's token usage per model for answers that ended in [<paramref name="from"/>, <paramref name="to"/>) (ISO 8601).</summary>
    private static async Task<Results<Ok<IReadOnlyList<ModelUsage>>, ValidationProblem>> Usage(
        DateTimeOffset? from, DateTimeOffset? to, ClaimsPrincipal user, IOptions<AuthOptions> auth, ChatStore store, CancellationToken cancellationToken)
    {
        if (from is { } start && to is { } end && end < start)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["to"] = ["to must not be before from"] });
        }

        return TypedResults.Ok(await store.GetUsageAsync(UserId(user, auth), from, to, cancellationToken));
    }

    private static string UserId(ClaimsPrincipal user, IOptions<AuthOptions> auth) =>
        ChatUsers.Id(user, auth.Value) ?? throw new InvalidOperationException($"authenticated user without a {auth.Value.UserIdClaim} claim");
}
