using System.Globalization;
using System.Text.RegularExpressions;

namespace ChatStreaming.Hub.Tests.Operations;

[Collection(ClusterCollection.Name)]
public sealed partial class MetricsTests(ChatCluster cluster)
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

        Assert.True(Value(during, "chatstreaming_generations_active") >= 1, "an active generation is visible while it streams");
        Assert.True(Value(after, "chatstreaming_chunks_sent_total") - Value(before, "chatstreaming_chunks_sent_total") >= finished.LastSequence);
        Assert.True(Value(after, "chatstreaming_chunk_write_duration_milliseconds_count") > Value(before, "chatstreaming_chunk_write_duration_milliseconds_count"));
        Assert.True(Value(after, """chatstreaming_generations_finished_total{status="cancelled"}""") >= 1 + Value(before, """chatstreaming_generations_finished_total{status="cancelled"}"""));
        Assert.Contains("chatstreaming_generator_queue_depth", after, StringComparison.Ordinal);
        Assert.True(Value(during, "chatstreaming_resumes_total") >= 1 + Value(before, "chatstreaming_resumes_total"));
        Assert.True(Value(during, """chatstreaming_replay_requests_total{result="hit"}""") >= 1 + Value(before, """chatstreaming_replay_requests_total{result="hit"}"""));
        Assert.True(Value(after, "chatstreaming_chunk_delay_milliseconds_count") - Value(before, "chatstreaming_chunk_delay_milliseconds_count") >= finished.LastSequence);
        Assert.True(Value(after, "chatstreaming_generator_queue_wait_milliseconds_count") > Value(before, "chatstreaming_generator_queue_wait_milliseconds_count"));
        Assert.True(Value(after, "chatstreaming_postgres_save_duration_milliseconds_count") > Value(before, "chatstreaming_postgres_save_duration_milliseconds_count"));
    }

    /// <summary>The sum of the samples of <paramref name="series"/> (a name, optionally with {labels}) in a Prometheus scrape; 0 when absent.</summary>
    internal static double Value(string scrape, string series)
    {
        var brace = series.IndexOf('{', StringComparison.Ordinal);
        var name = brace < 0 ? series : series[..brace];
        var labels = brace < 0 ? "" : series[(brace + 1)..^1];
        return scrape.Split('\n')
            .Where(l => l.StartsWith(name, StringComparison.Ordinal) && (l.Length == name.Length || l[name.Length] is ' ' or '{'))
            .Where(l => labels.Length == 0 || l.Contains(labels, StringComparison.Ordinal))
            .Select(l => Sample().Match(l))
            .Where(m => m.Success)
            .Sum(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"\s(-?[0-9.eE+-]+)(\s+\d+)?$")]
    private static partial Regex Sample();
}
