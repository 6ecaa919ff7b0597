using ChatStreaming.Contracts;
using ChatStreaming.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.IdentityModel.JsonWebTokens;
using System.Security.Claims;

namespace ChatStreaming.Server.Chat;

/// <summary>REST reads of the caller's conversations. Another user's conversation is a 404, like an unknown id.</summary>
internal static class ConversationsApi
{
    public static RouteGroupBuilder MapConversations(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup(ChatHubPaths.Conversations).RequireAuthorization();
        group.MapGet("/", ListConversations);
        group.MapGet("/{id:guid}/messages", GetMessages);
        return group;
    }

    private static async Task<Ok<IReadOnlyList<Conversation>>> ListConversations(
        ClaimsPrincipal user, ChatStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.ListConversationsAsync(UserId(user), ChatHub.MaxListedConversations, cancellationToken));

    private static async Task<Results<Ok<IReadOnlyList<Message>>, NotFound>> GetMessages(
        Guid id, ClaimsPrincipal user, ChatStore store, ConversationReader reader, CancellationToken cancellationToken)
    {
        if (await store.GetConversationAsync(UserId(user), id, cancellationToken) is null)
        {
            return TypedResults.NotFound();
        }

        return TypedResults.Ok(await reader.GetMessagesAsync(id, cancellationToken));
    }

    private static string UserId(ClaimsPrincipal user) =>
        user.FindFirstValue(JwtRegisteredClaimNames.Sub) ?? throw new InvalidOperationException("authenticated user without a subject");
}
