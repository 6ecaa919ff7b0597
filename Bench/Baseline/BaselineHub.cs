using ChatStreaming.Contracts;
using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Bench.Baseline;

/// <summary>
/// The baselines' hub: a client watches a stream (joins its group; polling also starts a poll loop on this instance)
/// and starts it here (the producer writes its chunks to Postgres). Chunks reach clients as the product's
/// <see cref="IChatHubClient.ReceiveChunk"/>, so the same client code measures every pipeline.
/// </summary>
internal sealed class BaselineHub(BaselineProducer producer, BaselineDelivery delivery) : Hub<IChatHubClient>
{
    public static string Group(Guid streamId) => $"s:{streamId:N}";

    public async Task Watch(Guid streamId, int tokens)
    {
        await Groups.AddToGroupAsync(Context.ConnectionId, Group(streamId));
        delivery.Watch(streamId, tokens);
    }

    public void Start(Guid streamId, int tokens, double tokensPerSecond) => producer.Start(streamId, tokens, tokensPerSecond);
}
