using ChatStreaming.FakeOpenAI;

namespace ChatStreaming.Hub.Tests.Streaming;

/// <summary>
/// Delivery never waits for one client: clients that misbehave on purpose (a raw WebSocket that negotiates stateful
/// reconnect and never acknowledges; one that stops reading its socket), each running as many long answers as it may on
/// an instance with few generation slots. Everyone else's answer there runs to its end, the slow users' answers end and
/// are saved as if nobody watched, leases stay renewed, and the slow connections are closed with the documented reason.
/// </summary>
[Collection(OutageCollection.Name)]
public sealed class SlowClientTests(ChatCluster cluster)
{
    [Fact]
    public async Task ClientsThatNeverAcknowledgeOrStopReadingAreClosedAndNobodyElseWaitsForThem()
    {
        // Every answer here: 300 deltas of 16 kB over ~7.5 s, 4.8 MB each: far more than a stuck socket's buffers or
        // 100 kB of unacknowledged frames hold.
        var settings = await cluster.FakeModelSettingsAsync();
        settings["Chat:MaxConcurrentGenerations"] = "5"; // two slow users × two answers, and one slot for everyone else
        settings["Chat:MaxConcurrentGenerationsPerUser"] = "2";
        settings["Chat:SlowClientTimeout"] = "00:00:02";
        settings["Chat:GenerationLease"] = "00:00:03"; // a renewal held up by a socket would let the answers be claimed as orphans
        await using var hub = await HubInstance.StartAsync(settings);
        var reply = new FakeReply { Deltas = [.. Enumerable.Range(0, 300).Select(i => $"{i % 10}{new string('x', 16 * 1024 - 1)}")], Delay = TimeSpan.FromMilliseconds(25) };
        var text = string.Concat(reply.Deltas);
        cluster.FakeModel.Reset();
        cluster.FakeModel.Enqueue(reply, reply, reply, reply, reply);

        await using var neverAcks = await RawHubSocket.ConnectAsync(hub.Url, await cluster.TokenAsync("never-acks"), statefulReconnect: true);
        await using var notReading = await RawHubSocket.ConnectAsync(hub.Url, await cluster.TokenAsync("not-reading"), statefulReconnect: false, receiveBufferBytes: 4096);
        var slowAnswers = new List<Guid>();
        foreach (var (slow, name) in new[] { (neverAcks, "never-acks"), (notReading, "not-reading") })
        {
            var conversationId = (await slow.InvokeAsync(ChatHubMethods.CreateConversation, name)).GetProperty("id").GetGuid();
            for (var i = 0; i < 2; i++)
            {
                var sent = await slow.InvokeAsync(ChatHubMethods.SendMessage, new SendMessageRequest(conversationId, $"{name} answer {i}", $"{name}-{i}"));
                slowAnswers.Add(sent.GetProperty("assistantMessageId").GetGuid());
            }
        }

        var draining = neverAcks.ReadUntilClosedAsync(); // it reads everything and acknowledges nothing; notReading reads no more
        using var http = new HttpClient();
        var before = await http.GetStringAsync($"{hub.Url}/metrics");

        // Someone else on the same instance, meanwhile: their answer starts and runs to its end like any other.
        await using var other = await cluster.ConnectAsync(hub.Url, "on-time");
        var conversation = await other.CreateConversationAsync();
        var theirs = await other.SendAsync(conversation.Id, "am I held up");
        GenerationFinished finished;
        try
        {
            finished = await other.WaitForFinishedAsync(theirs.AssistantMessageId, TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException e)
        {
            var log = hub.Process.Output.Where(l => l.Contains(theirs.AssistantMessageId.ToString(), StringComparison.Ordinal) || l.Contains("fail", StringComparison.OrdinalIgnoreCase));
            throw new TimeoutException($"{e.Message}; the model had {cluster.FakeModel.Requests.Count} requests; the hub logged:\n{string.Join('\n', log.TakeLast(40))}", e);
        }

        Assert.Equal(MessageStatus.Completed, finished.Status);
        StreamAssert.ExactlyOnceInOrder(other.ChunksOf(theirs.AssistantMessageId), finished);
        Assert.Equal(text, finished.Content);

        // The slow connections were closed, each with the reason operators read in the log.
        foreach (var slow in new[] { neverAcks, notReading })
        {
            await Wait.UntilAsync(
                () => hub.Process.Output.Any(l => l.Contains($"Connection {slow.ConnectionId} was closed: slow client", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(60), $"connection {slow.ConnectionId} ({(slow == neverAcks ? "never acknowledges" : "not reading")}) was not closed as a slow client");
        }

        await draining.WithTimeout(TimeSpan.FromSeconds(30)); // the server closed the one that never acknowledged

        // Meanwhile (7.5 s and more, one round a second) the instance kept renewing its leases and sweeping, none failed.
        var during = await http.GetStringAsync($"{hub.Url}/metrics");
        foreach (var series in new[] { "chatstreaming_leases_renewals_total", "chatstreaming_orphans_sweeps_total" })
        {
            var ran = Prometheus.Value(during, series + "{result=\"ok\"}") - Prometheus.Value(before, series + "{result=\"ok\"}");
            Assert.True(ran >= 3, $"{series}: {ran} rounds while the slow clients were connected");
            Assert.Equal(Prometheus.Value(before, series + "{result=\"failed\"}"), Prometheus.Value(during, series + "{result=\"failed\"}"));
        }

        // Their answers ended at their own pace, whole and completed, on this instance (no other claimed them: their leases
        // were renewed).
        foreach (var id in slowAnswers)
        {
            await Wait.UntilAsync(async () => (await cluster.SavedAsync(id)).Status != "streaming", TimeSpan.FromSeconds(60), $"answer {id} did not end");
            var saved = await cluster.SavedAsync(id);
            var log = string.Join('\n', hub.Process.Output.Concat(cluster.HubOutput).Where(l => l.Contains(id.ToString(), StringComparison.Ordinal)));
            Assert.True(
                saved.Status == "completed" && saved.Content == text,
                $"answer {id}: saved {saved.Status}, {saved.Content.Length} of {text.Length} chars, last sequence {saved.LastSequence}, " +
                $"ending \"{saved.Content[^Math.Min(40, saved.Content.Length)..]}\"; the hubs logged:\n{log}");
            Assert.DoesNotContain(hub.Process.Output.Concat(cluster.HubOutput), l => l.Contains(id.ToString(), StringComparison.Ordinal)
                && (l.Contains("lost its instance", StringComparison.Ordinal) || l.Contains("was orphaned", StringComparison.Ordinal)));
        }

        Assert.True((await http.GetAsync($"{hub.Url}{ChatHubPaths.HealthReady}")).IsSuccessStatusCode, "the instance stayed ready");
    }

    [Fact]
    public async Task AClientThatDidNotAskForBatchesGetsOneReceiveChunkPerChunkAndOneThatDidGetsEverySequenceOnceInOrder()
    {
        var hub = await cluster.LongAnswerHubAsync();
        var token = await cluster.TokenAsync("batch-or-not");
        await using var plain = await ChatTestClient.ConnectAsync(hub.Url, token, acceptChunkBatches: false);
        await using var batching = await ChatTestClient.ConnectAsync(cluster.B, token);
        var conversation = await plain.CreateConversationAsync();
        await batching.Hub.JoinConversation(conversation.Id);
        var sent = await plain.SendAsync(conversation.Id, "one by one, or together");
        await plain.WaitForChunksAsync(sent.AssistantMessageId, 20);
        await plain.Hub.CancelGeneration(sent.AssistantMessageId);

        var finished = await plain.WaitForFinishedAsync(sent.AssistantMessageId);
        await batching.WaitForFinishedAsync(sent.AssistantMessageId);
        Assert.Equal(0, plain.BatchesReceived);
        StreamAssert.ExactlyOnceInOrder(plain.ChunksOf(sent.AssistantMessageId), finished);
        StreamAssert.ExactlyOnceInOrder(batching.ChunksOf(sent.AssistantMessageId), finished);
    }
}
