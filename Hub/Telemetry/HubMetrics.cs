using System.Diagnostics.Metrics;

namespace ChatStreaming.Server.Telemetry;

/// <summary>The hub's own instruments (meter <see cref="MeterName"/>): what clients ask of it, beside the worker's.</summary>
public sealed class HubMetrics
{
    public const string MeterName = "ChatStreaming.Server";

    private readonly Counter<long> replayRequests;
    private readonly Counter<long> resumes;

    public HubMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        replayRequests = meter.CreateCounter<long>("chatstreaming.replay.requests", "{request}", "GetChunks calls, by result (hit: served from the replay buffer; miss: the buffer is gone)");
        resumes = meter.CreateCounter<long>("chatstreaming.resumes", "{snapshot}", "Snapshots (JoinConversation) taken while an answer of the conversation was streaming: a client joining or coming back mid-answer");
    }

    public void Replay(bool hit) => replayRequests.Add(1, new KeyValuePair<string, object?>("result", hit ? "hit" : "miss"));

    public void Resumed() => resumes.Add(1);
}
