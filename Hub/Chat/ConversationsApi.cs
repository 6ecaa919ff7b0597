using ChatStreaming.Contracts;
using ChatStreaming.Persistence;
using System.Security.Claims;
using ChatStreaming.Server.Auth;
using ChatStreaming.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Server.Chat;

/// <summary>REST reads of the caller's conversations. Another user's conversation is a 404, like an unknown id.</summary>
internal static class ConversationsApi
{
    public static RouteGroupBuilder MapConversations(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup(ChatHubPaths.Conversations).RequireAuthorization().RequireRateLimiting(RateLimitExtensions.PerUser);
        group.MapGet("/", ListConversations);
        group.MapGet("/{id:guid}/messages", GetMessages);
        return group;
    }

    private static async Task<Ok<IReadOnlyList<Conversation>>> ListConversations(
        ClaimsPrincipal user, IOptions<AuthOptions> auth, ChatStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.ListConversationsAsync(UserId(user, auth), ChatHub.MaxListedConversations, cancellationToken));

    private static async Task<Results<Ok<IReadOnlyList<Message>>, NotFound>> GetMessages(
        Guid id, ClaimsPrincipal user, IOptions<AuthOptions> auth, ChatStore store, ConversationReader reader, CancellationToken cancellationToken)
    {
        if (await store.GetConversationAsync(UserId(user, auth), id, cancellationToken) is null)
        {
            return TypedResults.NotFound();
        }

        return TypedResults.Ok(await reader.GetMessagesAsync(id, cancellationToken));
    }

    private static string UserId(ClaimsPrincipal user, IOptions<AuthOptions> auth) =>
        ChatUsers.Id(user, auth.Value) ?? throw new InvalidOperationException($"authenticated user without a {auth.Value.UserIdClaim} claim");
}
