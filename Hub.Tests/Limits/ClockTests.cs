using ChatStreaming.Worker.Ending;
using ChatStreaming.Worker.Limits;
using ChatStreaming.Worker.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ChatStreaming.Hub.Tests.Limits;

/// <summary>
/// Instances whose clocks disagree (an hour here) agree on leases and limit windows: every time a script compares is
/// Redis's own (<c>TIME</c>), never the calling instance's. Worker services in-process, on the cluster's Redis, one of
/// them with a clock an hour ahead.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClockTests(ChatCluster cluster)
{
    [Fact]
    public async Task AnInstanceWhoseClockIsAnHourAheadSeesNoLiveLeaseAsExpiredAndWritesNoLeaseAnHourLong()
    {
        using var onTime = Host(TimeSpan.Zero);
        using var ahead = Host(TimeSpan.FromHours(1));
        var (conversation, question, user) = (Guid.NewGuid(), Guid.NewGuid(), $"clock-{Guid.NewGuid():N}");
        var (registeredOnTime, registeredAhead) = (Guid.NewGuid(), Guid.NewGuid());
        var none = new Admission(AdmissionResult.Admitted, "none", TimeSpan.Zero);
        await onTime.Services.GetRequiredService<GenerationState>().RegisterAsync(registeredOnTime, conversation, question, user, none);
        await ahead.Services.GetRequiredService<GenerationState>().RegisterAsync(registeredAhead, conversation, question, user, none);

        // The sweeper an hour ahead would have claimed every live answer; the lease written an hour ahead would have
        // kept a dead instance's answer for an hour.
        Assert.DoesNotContain(await ahead.Services.GetRequiredService<GenerationState>().ExpiredLeasesAsync(), l => l.MessageId == registeredOnTime);
        var redisNow = await RedisNowAsync();
        var lease = (long)(await cluster.RedisClient.GetDatabase().HashGetAsync(RedisKeys.Generation(conversation, registeredAhead), "lease"));
        Assert.InRange(lease - redisNow, 1, 2 * (long)Lease.TotalMilliseconds);
    }

    [Fact]
    public async Task SendsFromAnInstanceAnHourAheadLeaveTheWindowAMinuteLater()
    {
        using var onTime = Host(TimeSpan.Zero);
        using var ahead = Host(TimeSpan.FromHours(1));
        var user = $"clock-sends-{Guid.NewGuid():N}";
        var conversation = Guid.NewGuid();
        for (var i = 0; i < PerMinute; i++)
        {
            Assert.Equal(AdmissionResult.Admitted, (await ahead.Services.GetRequiredService<UserLimiter>().AdmitAsync(user, conversation, null)).Result);
        }

        var refused = await onTime.Services.GetRequiredService<UserLimiter>().AdmitAsync(user, conversation, null);

        Assert.Equal(AdmissionResult.TooManyMessages, refused.Result);
        Assert.InRange(refused.RetryAfter, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60)); // before: an hour and a minute
    }

    private const int PerMinute = 3;

    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(10);

    private async Task<long> RedisNowAsync()
    {
        var time = (StackExchange.Redis.RedisResult[])(await cluster.RedisClient.GetDatabase().ExecuteAsync("TIME"))!;
        return ((long)time[0] * 1000) + ((long)time[1] / 1000);
    }

    /// <summary>The worker's services, not started, on the cluster's Redis and Postgres, with a clock <paramref name="skew"/> off.</summary>
    private IHost Host(TimeSpan skew) => WorkerHost.Create(
        cluster,
        new Dictionary<string, string>
        {
            ["Chat:MessagesPerMinutePerUser"] = PerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Chat:GenerationLease"] = Lease.ToString(),
        },
        services => services.AddSingleton<TimeProvider>(new SkewedClock(skew)));

    private sealed class SkewedClock(TimeSpan skew) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + skew;
    }
}
