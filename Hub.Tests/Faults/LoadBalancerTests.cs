using ChatStreaming.Client.Core;
using Dapper;
using Microsoft.AspNetCore.Http.Connections;

namespace ChatStreaming.Hub.Tests.Faults;

/// <summary>Clients behind one URL (real nginx, deploy/nginx.conf) while an instance behind it dies.</summary>
[Collection(OutageCollection.Name)]
public sealed class LoadBalancerTests(ChatCluster cluster)
{
    [Fact]
    public async Task ClientsBehindNginxReconnectToTheSurvivorWhenAnInstanceDiesAndEndWithTheSavedAnswers()
    {
        var settings = cluster.Settings.ToDictionary();
        settings["Chat:Model:Simulated:TokensPerSecond"] = "20";
        settings["Chat:Model:Simulated:ResponseTokens"] = "300"; // 15 s: every answer is still streaming when one instance dies, however busy the machine
        await using var doomed = await HubInstance.StartAsync(settings);
        await using var survivor = await HubInstance.StartAsync(settings);
        await using var nginx = await NginxServer.StartAsync([doomed.Url, survivor.Url]);

        var clients = new List<(ChatSession Session, TaskCompletionSource<AnswerState> Done)>();
        var reconnected = 0;
        try
        {
            for (var i = 0; i < 4; i++)
            {
                var token = await cluster.TokenAsync($"behind-nginx-{i}");
                // No sticky sessions: WebSockets without negotiation is a single request, any instance will do.
                var session = new ChatSession(new Uri(nginx.Url), () => Task.FromResult<string?>(token), o =>
                {
                    o.SkipNegotiation = true;
                    o.Transports = HttpTransportType.WebSockets;
                });
                var done = new TaskCompletionSource<AnswerState>(TaskCreationOptions.RunContinuationsAsynchronously);
                session.Finished += answer => done.TrySetResult(answer);
                session.StateChanged += state => { if (state == "reconnected") Interlocked.Increment(ref reconnected); };
                await session.StartAsync(CancellationToken.None);
                await session.CreateConversationAsync("through nginx", CancellationToken.None);
                await session.SendAsync($"answer {i}", CancellationToken.None);
                clients.Add((session, done));
            }

            await Wait.UntilAsync(() => clients.All(c => c.Session.Streaming().Count == 1), TimeSpan.FromSeconds(30), "the answers did not start");
            doomed.Process.Signal(Signals.Kill); // one instance behind nginx

            var answers = await Task.WhenAll(clients.Select(c => c.Done.Task)).WaitAsync(TimeSpan.FromSeconds(90));

            Assert.True(Volatile.Read(ref reconnected) >= 1, "the clients of the dead instance reconnected through nginx");
            foreach (var answer in answers)
            {
                Assert.Equal(answer.Finished!.Content, answer.Text.ToString());
                Assert.Equal(MessageStatus.Completed, answer.Finished.Status); // the dead instance's answers are carried on (Chat:Failover = Continue)
                Assert.Equal(SavedAnswer.Of(answer.Finished), await cluster.SavedAsync(answer.MessageId));
            }

            Assert.DoesNotContain(nginx.Output, line => line.Contains("access_token", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var (session, _) in clients)
            {
                await session.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task MetricsAreNotServedThroughTheLoadBalancer()
    {
        await using var nginx = await NginxServer.StartAsync([cluster.A, cluster.B]);
        using var http = new HttpClient();

        using var direct = await http.GetAsync($"{cluster.A}/metrics");
        Assert.Equal(System.Net.HttpStatusCode.OK, direct.StatusCode); // the operator's scraper reaches the instance itself

        // ASP.NET routing serves every one of these spellings: nginx must refuse them all.
        foreach (var path in new[] { "/metrics", "/METRICS", "/Metrics", "/metrics/", "/METRICS/" })
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync($"{cluster.A}{path}")).StatusCode);
            using var proxied = await http.GetAsync($"{nginx.Url}{path}");
            Assert.True(proxied.StatusCode == System.Net.HttpStatusCode.NotFound, $"{path} was served through the load balancer: {proxied.StatusCode}");
        }
    }
}
