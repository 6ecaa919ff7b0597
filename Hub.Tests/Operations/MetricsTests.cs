namespace ChatStreaming.Hub.Tests.Operations;

[Collection(ClusterCollection.Name)]
public sealed class MetricsTests(ChatCluster cluster)
{
    [Fact]
    public async Task MetricsMoveWhileAnAnswerStreamsWithTheirLabels()
    {
        // A long answer on an instance of its own: the scrape "during" always lands mid-answer; then it is cancelled.
        var hub = await cluster.LongAnswerHubAsync();
        using var http = new HttpClient();
        await using var client = await cluster.ConnectAsync(hub.Url, "metrics");
        var conversation = await client.CreateConversationAsync();
        var before = await http.GetStringAsync($"{hub.Url}/metrics");

        var sent = await client.SendAsync(conversation.Id, "measure me");
        await client.WaitForChunksAsync(sent.AssistantMessageId, 5);
        await client.Hub.JoinConversation(conversation.Id); // a resume mid-answer
        await client.Hub.GetChunks(sent.AssistantMessageId, 0L); // a replay hit
        var during = await http.GetStringAsync($"{hub.Url}/metrics");
        await client.Hub.CancelGeneration(sent.AssistantMessageId);
        var finished = await client.WaitForFinishedAsync(sent.AssistantMessageId);
        var after = await http.GetStringAsync($"{hub.Url}/metrics");

        Assert.True(Prometheus.Value(during, "chatstreaming_generations_active") >= 1, "an active generation is visible while it streams");
        Assert.True(Prometheus.Value(after, "chatstreaming_chunks_sent_total") - Prometheus.Value(before, "chatstreaming_chunks_sent_total") >= finished.LastSequence);
        Assert.True(Prometheus.Value(after, "chatstreaming_chunk_write_duration_milliseconds_count") > Prometheus.Value(before, "chatstreaming_chunk_write_duration_milliseconds_count"));
        Assert.True(Prometheus.Value(after, """chatstreaming_generations_finished_total{status="cancelled"}""") >= 1 + Prometheus.Value(before, """chatstreaming_generations_finished_total{status="cancelled"}"""));
        Assert.Contains("chatstreaming_generator_queue_depth", after, StringComparison.Ordinal);
        Assert.True(Prometheus.Value(during, "chatstreaming_resumes_total") >= 1 + Prometheus.Value(before, "chatstreaming_resumes_total"));
        Assert.True(Prometheus.Value(during, """chatstreaming_replay_requests_total{result="hit"}""") >= 1 + Prometheus.Value(before, """chatstreaming_replay_requests_total{result="hit"}"""));
        Assert.True(Prometheus.Value(after, "chatstreaming_chunk_delay_milliseconds_count") - Prometheus.Value(before, "chatstreaming_chunk_delay_milliseconds_count") >= finished.LastSequence);
        Assert.True(Prometheus.Value(after, "chatstreaming_generator_queue_wait_milliseconds_count") > Prometheus.Value(before, "chatstreaming_generator_queue_wait_milliseconds_count"));
        Assert.True(Prometheus.Value(after, "chatstreaming_postgres_save_duration_milliseconds_count") > Prometheus.Value(before, "chatstreaming_postgres_save_duration_milliseconds_count"));
    }
}
