using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Hub.Tests.Conversations;

/// <summary>Regenerate, edit and branches: nothing is overwritten, the active branch is what clients and the model see.</summary>
[Collection(ClusterCollection.Name)]
public sealed class BranchTests(ChatCluster cluster)
{
    [Fact]
    public async Task ARegeneratedAnswerStreamsToTheOtherInstanceAndKeepsTheOldOneAsItsSibling()
    {
        await using var sender = await cluster.ConnectAsync(cluster.A, "regenerator");
        await using var watcher = await cluster.ConnectAsync(cluster.B, "regenerator");
        var conversation = await sender.CreateConversationAsync();
        var sent = await sender.SendAsync(conversation.Id, "tell me twice");
        var first = await sender.WaitForFinishedAsync(sent.AssistantMessageId);
        await watcher.Hub.JoinConversation(conversation.Id);

        var again = await sender.Hub.RegenerateAnswer(new RegenerateAnswerRequest(sent.AssistantMessageId, "regen-1"));
        var retried = await watcher.Hub.RegenerateAnswer(new RegenerateAnswerRequest(sent.AssistantMessageId, "regen-1"));
        var second = await watcher.WaitForFinishedAsync(again.AssistantMessageId);
        var snapshot = await watcher.Hub.JoinConversation(conversation.Id);

        Assert.Equal(sent.UserMessageId, again.UserMessageId);
        Assert.NotEqual(sent.AssistantMessageId, again.AssistantMessageId);
        Assert.Equal(again with { Status = retried.Status }, retried); // idempotent on clientMessageId, from either instance
        StreamAssert.ExactlyOnceInOrder(watcher.ChunksOf(again.AssistantMessageId), second);
        Assert.Equal(Simulated.Answer("tell me twice"), second.Content);
        Assert.Equal([sent.UserMessageId, again.AssistantMessageId], snapshot.Messages.Select(m => m.Id));
        Assert.Equal(sent.UserMessageId, snapshot.Messages[1].ParentId);
        Assert.Equal([sent.AssistantMessageId, again.AssistantMessageId], snapshot.Messages[1].SiblingIds);
        Assert.Null(snapshot.Messages[0].ParentId);
        Assert.Equal([sent.UserMessageId], snapshot.Messages[0].SiblingIds);

        var older = await watcher.Hub.SelectBranch(new SelectBranchRequest(conversation.Id, sent.AssistantMessageId));
        Assert.Equal([sent.UserMessageId, sent.AssistantMessageId], older.Messages.Select(m => m.Id));
        Assert.Equal(first.Content, older.Messages[1].Content);
        var joined = await sender.Hub.JoinConversation(conversation.Id);
        Assert.Equal(older.Messages.Select(m => m.Id), joined.Messages.Select(m => m.Id)); // the choice is the conversation's, on every instance
    }

    [Fact]
    public async Task AnEditedQuestionStartsANewBranchAndTheEarlierBranchStaysOneSelectAway()
    {
        await using var client = await cluster.ConnectAsync(cluster.B, "editor");
        var conversation = await client.CreateConversationAsync();
        var one = await client.SendAsync(conversation.Id, "first question");
        await client.WaitForFinishedAsync(one.AssistantMessageId);
        var two = await client.SendAsync(conversation.Id, "second question");
        await client.WaitForFinishedAsync(two.AssistantMessageId);

        var edited = await client.Hub.EditMessage(new EditMessageRequest(two.UserMessageId, "second question, better"));
        var finished = await client.WaitForFinishedAsync(edited.AssistantMessageId);
        var added = client.MessagesAdded.Single(m => m.Id == edited.UserMessageId);
        var after = await client.Hub.JoinConversation(conversation.Id);
        var three = await client.SendAsync(conversation.Id, "third question");
        await client.WaitForFinishedAsync(three.AssistantMessageId);
        var back = await client.Hub.SelectBranch(new SelectBranchRequest(conversation.Id, two.UserMessageId));
        var forth = await client.Hub.SelectBranch(new SelectBranchRequest(conversation.Id, edited.UserMessageId));

        Assert.Equal(Simulated.Answer("second question, better"), finished.Content);
        Assert.Equal(one.AssistantMessageId, added.ParentId);
        Assert.Equal([two.UserMessageId, edited.UserMessageId], added.SiblingIds);
        Assert.Equal([one.UserMessageId, one.AssistantMessageId, edited.UserMessageId, edited.AssistantMessageId], after.Messages.Select(m => m.Id));
        Assert.Equal([two.UserMessageId, edited.UserMessageId], after.Messages[2].SiblingIds);
        Assert.Equal([one.UserMessageId, one.AssistantMessageId, two.UserMessageId, two.AssistantMessageId], back.Messages.Select(m => m.Id));
        // Selecting a message takes the newest path through it: the edit, its answer, and the question asked after it.
        Assert.Equal(
            [one.UserMessageId, one.AssistantMessageId, edited.UserMessageId, edited.AssistantMessageId, three.UserMessageId, three.AssistantMessageId],
            forth.Messages.Select(m => m.Id));
    }

    [Fact]
    public async Task RegenerateAndEditRefuseTheWrongKindOfMessageAndBadInput()
    {
        await using var client = await cluster.ConnectAsync(cluster.A, "branch-validator");
        var conversation = await client.CreateConversationAsync();
        var sent = await client.SendAsync(conversation.Id, "hello");
        await client.WaitForFinishedAsync(sent.AssistantMessageId);

        var regenerateQuestion = await Assert.ThrowsAsync<HubException>(() => client.Hub.RegenerateAnswer(new RegenerateAnswerRequest(sent.UserMessageId)));
        var editAnswer = await Assert.ThrowsAsync<HubException>(() => client.Hub.EditMessage(new EditMessageRequest(sent.AssistantMessageId, "new")));
        var editEmpty = await Assert.ThrowsAsync<HubException>(() => client.Hub.EditMessage(new EditMessageRequest(sent.UserMessageId, "  ")));
        var badKey = await Assert.ThrowsAsync<HubException>(() => client.Hub.RegenerateAnswer(new RegenerateAnswerRequest(sent.AssistantMessageId, "tab\there")));
        var unknownBranch = await Assert.ThrowsAsync<HubException>(() => client.Hub.SelectBranch(new SelectBranchRequest(conversation.Id, Guid.NewGuid())));

        Assert.EndsWith("messageId must be an answer (an assistant message); to change a question use EditMessage", regenerateQuestion.Message, StringComparison.Ordinal);
        Assert.EndsWith("messageId must be a user message; to get another answer use RegenerateAnswer", editAnswer.Message, StringComparison.Ordinal);
        Assert.EndsWith("content must not be empty", editEmpty.Message, StringComparison.Ordinal);
        Assert.Contains("clientMessageId must be", badKey.Message, StringComparison.Ordinal);
        Assert.EndsWith(ChatErrors.MessageNotFound, unknownBranch.Message, StringComparison.Ordinal);
        var snapshot = await client.Hub.JoinConversation(conversation.Id);
        Assert.Equal([sent.UserMessageId, sent.AssistantMessageId], snapshot.Messages.Select(m => m.Id)); // nothing was saved
    }

    [Fact]
    public async Task SearchFindsOnlyTheCallersMessagesBestMatchFirstOverTheHubAndRest()
    {
        await using var alice = await cluster.ConnectAsync(cluster.A, "searcher-alice");
        await using var bob = await cluster.ConnectAsync(cluster.B, "searcher-bob");
        var trips = await alice.CreateConversationAsync("Trips");
        var other = await alice.CreateConversationAsync("Other");
        var bobs = await bob.CreateConversationAsync("Bob's");
        // Answers are searchable once saved: wait for each (the simulated answer echoes its question's first words).
        var weak = await alice.SendAsync(trips.Id, "is a zeppelin fast");
        await alice.WaitForFinishedAsync(weak.AssistantMessageId);
        var strong = await alice.SendAsync(trips.Id, "zeppelin zeppelins: zeppelin history and the zeppelin hangar");
        await alice.WaitForFinishedAsync(strong.AssistantMessageId);
        var unrelated = await alice.SendAsync(other.Id, "nothing about airships");
        await alice.WaitForFinishedAsync(unrelated.AssistantMessageId);
        var bobsSent = await bob.SendAsync(bobs.Id, "my zeppelin is fastest");
        await bob.WaitForFinishedAsync(bobsSent.AssistantMessageId);

        var hits = await alice.Hub.SearchMessages(new SearchMessagesRequest("zeppelin"));
        var phrase = await alice.Hub.SearchMessages(new SearchMessagesRequest("\"zeppelin fast\" -hangar", 5));
        var elsewhere = await alice.Hub.SearchMessages(new SearchMessagesRequest("zeppelin", null, other.Id));
        var bobHits = await bob.Hub.SearchMessages(new SearchMessagesRequest("zeppelin"));
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", await cluster.TokenAsync("searcher-alice"));
        var rest = await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<List<SearchHit>>(http, $"{cluster.B}{ChatHubPaths.Search}?q=zeppelin&limit=1");
        var intruding = await Assert.ThrowsAsync<HubException>(() => bob.Hub.SearchMessages(new SearchMessagesRequest("zeppelin", null, trips.Id)));
        var empty = await Assert.ThrowsAsync<HubException>(() => bob.Hub.SearchMessages(new SearchMessagesRequest(" ")));
        // NUL, which Postgres text cannot hold, separates words (before: a generic error, logged at Error each time).
        var withNul = await alice.Hub.SearchMessages(new SearchMessagesRequest("hangar\0zeppelins"));
        var restWithNul = await http.GetAsync($"{cluster.B}{ChatHubPaths.Search}?q=hangar%00zeppelins");

        Assert.Equal([strong.UserMessageId, weak.UserMessageId], hits.Where(h => h.Role == MessageRole.User).Select(h => h.MessageId));
        Assert.Equal(strong.UserMessageId, hits[0].MessageId); // four mentions rank above one
        Assert.All(hits, h => Assert.Equal(trips.Id, h.ConversationId));
        Assert.Equal("Trips", hits[0].ConversationTitle);
        Assert.Contains("**zeppelin**", hits[0].Snippet, StringComparison.Ordinal);
        Assert.Equal([weak.UserMessageId], phrase.Where(h => h.Role == MessageRole.User).Select(h => h.MessageId));
        Assert.DoesNotContain(phrase, h => h.MessageId == strong.UserMessageId);
        Assert.Empty(elsewhere);
        Assert.Equal([bobs.Id], bobHits.Select(h => h.ConversationId).Distinct());
        Assert.Equal(strong.UserMessageId, rest!.Single().MessageId);
        Assert.EndsWith(ChatErrors.ConversationNotFound, intruding.Message, StringComparison.Ordinal);
        Assert.EndsWith("query must not be empty", empty.Message, StringComparison.Ordinal);
        Assert.Equal([strong.UserMessageId], withNul.Where(h => h.Role == MessageRole.User).Select(h => h.MessageId));
        Assert.Equal(System.Net.HttpStatusCode.OK, restWithNul.StatusCode);
    }
}
