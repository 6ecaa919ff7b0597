using ChatStreaming.Worker.Ending;
using ChatStreaming.Worker.Limits;
using ChatStreaming.Worker.Redis;
using Microsoft.Extensions.DependencyInjection;

namespace ChatStreaming.Hub.Tests.Faults;

/// <summary>
/// The Worker's background loops outlive a failed tick, whatever failed: a loop that ended would stop the host (and leave
/// this instance's answers to be taken for orphans). The Worker's services in-process on the cluster's Redis.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class BackgroundLoopTests(ChatCluster cluster)
{
    [Fact]
    public async Task LeaseRenewalGoesOnAfterATickThatFailedWithSomethingOtherThanRedis()
    {
        using var worker = WorkerHost.Create(cluster, new Dictionary<string, string> { ["Chat:GenerationLease"] = "00:00:03" }); // a tick a second
        var (state, limiter, owned) = (worker.Services.GetRequiredService<GenerationState>(), worker.Services.GetRequiredService<UserLimiter>(), worker.Services.GetRequiredService<OwnedAnswers>());
        var heartbeat = RedisKeys.Instance(worker.Services.GetRequiredService<InstanceIdentity>().Id);

        // An answer owned here that ended elsewhere: the renewal cancels its generation here, and a callback on that
        // generation's token throws (a bug in whatever registered it), so the first tick fails with that, not with Redis.
        var (_, answer) = await Limits.RenewalRaceTests.RegisteredAsync(state, limiter, "loop");
        await state.FinishAsync(answer.ConversationId, answer.MessageId, MessageStatus.Completed, null);
        using var stopping = new CancellationTokenSource();
        using var generation = owned.Start(answer, stopping.Token);
        var failedCallbacks = 0;
        generation.Token.Register(() =>
        {
            Interlocked.Increment(ref failedCallbacks);
            throw new InvalidOperationException("a cancellation callback that throws");
        });
        using var renewer = ActivatorUtilities.CreateInstance<LeaseRenewer>(worker.Services); // as the host runs it

        await renewer.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(() => Volatile.Read(ref failedCallbacks) == 1, TimeSpan.FromSeconds(30), "the renewal never cancelled the answer");
            await cluster.RedisClient.GetDatabase().KeyDeleteAsync(heartbeat);

            // Before: the loop ended with the callback's exception (and the host with it); now the next tick renews.
            await Wait.UntilAsync(() => cluster.RedisClient.GetDatabase().KeyExistsAsync(heartbeat), TimeSpan.FromSeconds(30), "the heartbeat was not renewed after the failed tick");
            Assert.False(renewer.ExecuteTask!.IsCompleted, $"the renewal loop ended: {renewer.ExecuteTask.Exception?.InnerException?.Message}");
        }
        finally
        {
            await renewer.StopAsync(CancellationToken.None);
        }
    }
}
