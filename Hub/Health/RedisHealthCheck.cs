using ChatStreaming.Worker.Redis;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace ChatStreaming.Server.Health;

/// <summary>
/// Ready while Redis serves: a single node answers PING; a cluster says <c>cluster_state:ok</c> (every slot served by a
/// reachable master) as seen by the first of its nodes that answers. A node that is down after a failover (its slots
/// now served by its former replica) does not make the instance unready: the cluster serves without it.
/// (AspNetCore.HealthChecks.Redis asks every configured node, so one dead node listed in ConnectionStrings:Redis would
/// keep every instance unready after a failover that the cluster survived.)
/// </summary>
internal sealed class RedisHealthCheck(IConnectionMultiplexer redis, RedisTopology topology) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            if (!topology.IsCluster)
            {
                var latency = await redis.GetDatabase().PingAsync();
                return HealthCheckResult.Healthy($"PING {latency.TotalMilliseconds:0.#} ms");
            }

            foreach (var server in redis.GetServers().Where(s => s.IsConnected))
            {
                string info;
                try
                {
                    info = (await server.ExecuteAsync("CLUSTER", "INFO")).ToString();
                }
                catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
                {
                    continue; // went away since: ask the next one
                }

                return info.Contains("cluster_state:ok", StringComparison.Ordinal)
                    ? HealthCheckResult.Healthy($"cluster_state:ok (asked {server.EndPoint})")
                    : HealthCheckResult.Unhealthy($"the cluster is not serving every slot (cluster_state is not ok at {server.EndPoint})");
            }

            return HealthCheckResult.Unhealthy("no node of the Redis cluster is reachable");
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
            return HealthCheckResult.Unhealthy("Redis is not reachable", ex);
        }
    }
}
