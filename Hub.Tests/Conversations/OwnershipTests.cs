using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Hub.Tests.Conversations;

[Collection(ClusterCollection.Name)]
public sealed class OwnershipTests(ChatCluster cluster)
{
    [Fact]
    public async Task EveryHubMethodTakingAnIdRefusesAnotherUsersIdsExactlyLikeUnknownIds()
    {
        await using var owner = await cluster.ConnectAsync(cluster.A, "owner");
        await using var intruder = await cluster.ConnectAsync(cluster.B, "intruder");
        var conversation = await owner.CreateConversationAsync("private");
        var sent = await owner.SendAsync(conversation.Id, "secret");
        await owner.WaitForChunksAsync(sent.AssistantMessageId, 2);

        // Enumerates the contract, so a method added later without an ownership check fails here.
        var methods = typeof(IChatHub).GetMethods().Where(m => m.GetParameters().Any(p => TakesId(p.ParameterType))).ToList();
        Assert.NotEmpty(methods);
        foreach (var method in methods)
        {
            foreach (var known in new[] { true, false })
            {
                var args = method.GetParameters().Select(p => Argument(p, known ? conversation.Id : Guid.NewGuid(), known ? sent.AssistantMessageId : Guid.NewGuid())).ToArray();
                var error = await Assert.ThrowsAsync<HubException>(() => intruder.Connection.InvokeCoreAsync(method.Name, typeof(object), args).WithTimeout());
                var expected = method.GetParameters().Any(p => p.Name == "messageId") || MessageOnly(method) ? ChatErrors.MessageNotFound : ChatErrors.ConversationNotFound;
                Assert.True(error.Message.EndsWith(expected, StringComparison.Ordinal), $"{method.Name} (known id: {known}) said: {error.Message}");
            }
        }

        Assert.Empty(await intruder.Hub.ListConversations());
        var finished = await owner.WaitForFinishedAsync(sent.AssistantMessageId);
        Assert.Equal(MessageStatus.Completed, finished.Status); // the intruder's cancel did nothing
        Assert.Empty(intruder.ChunksOf(sent.AssistantMessageId)); // and its join did not subscribe it
    }

    [Fact]
    public async Task RestRefusesAnotherUsersConversationWith404LikeAnUnknownOne()
    {
        await using var owner = await cluster.ConnectAsync(cluster.A, "rest-owner");
        var conversation = await owner.CreateConversationAsync("mine");
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await cluster.TokenAsync("rest-intruder"));

        var theirs = await http.GetAsync($"{cluster.B}{ChatHubPaths.Conversations}/{conversation.Id}/messages");
        var unknown = await http.GetAsync($"{cluster.B}{ChatHubPaths.Conversations}/{Guid.NewGuid()}/messages");
        var list = await http.GetStringAsync($"{cluster.B}{ChatHubPaths.Conversations}");
        var export = await http.GetAsync($"{cluster.B}{ChatHubPaths.Conversations}/{conversation.Id}/export?format=json");
        var search = await http.GetStringAsync($"{cluster.B}{ChatHubPaths.Search}?q=mine");

        Assert.Equal(HttpStatusCode.NotFound, export.StatusCode);
        Assert.Equal("[]", search);
        Assert.Equal(HttpStatusCode.NotFound, theirs.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("[]", list);
    }

    [Fact]
    public async Task RequestsWithoutAValidTokenAreRefused()
    {
        using var http = new HttpClient();
        var negotiate = await http.PostAsync($"{cluster.A}{ChatHubPaths.Hub}/negotiate?negotiateVersion=1", null);
        Assert.Equal(HttpStatusCode.Unauthorized, negotiate.StatusCode);

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"{cluster.A}{ChatHubPaths.Conversations}")).StatusCode);
    }

    /// <summary>Requests that name a message but no conversation answer "message not found".</summary>
    private static bool MessageOnly(MethodInfo method) =>
        method.GetParameters().Any(p => p.ParameterType.GetProperty("MessageId") is not null && p.ParameterType.GetProperty("ConversationId") is null);

    /// <summary>A Guid, or a request record carrying a conversation or message id (a new one fails here until it gets an argument below).</summary>
    private static bool TakesId(Type type) =>
        type == typeof(Guid) || type.GetProperties().Any(p => p.Name is "ConversationId" or "MessageId" && (p.PropertyType == typeof(Guid) || p.PropertyType == typeof(Guid?)));

    private static object? Argument(ParameterInfo parameter, Guid conversationId, Guid messageId) => parameter switch
    {
        { Name: "conversationId" } => conversationId,
        { Name: "messageId" } => messageId,
        { ParameterType: var t } when t == typeof(SendMessageRequest) => new SendMessageRequest(conversationId, "not yours"),
        { ParameterType: var t } when t == typeof(UpdateConversationRequest) => new UpdateConversationRequest(conversationId, "mine now"),
        { ParameterType: var t } when t == typeof(SelectBranchRequest) => new SelectBranchRequest(conversationId, messageId),
        { ParameterType: var t } when t == typeof(SearchMessagesRequest) => new SearchMessagesRequest("secret", null, conversationId),
        { ParameterType: var t } when t == typeof(RegenerateAnswerRequest) => new RegenerateAnswerRequest(messageId),
        { ParameterType: var t } when t == typeof(EditMessageRequest) => new EditMessageRequest(messageId, "not yours"),
        { ParameterType: var t } when t == typeof(long) => 0L,
        { ParameterType: var t } when t == typeof(long?) || t == typeof(int?) => null,
        _ => throw new InvalidOperationException($"no test argument for {parameter.Member.Name}({parameter.Name})"),
    };
}
