using System.Diagnostics;
using System.Globalization;
using ChatStreaming.Contracts;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Bench;

/// <summary>
/// <c>ChatStreaming.Bench protocols</c>: what writing one chunk event costs with each hub protocol the product offers,
/// the way a hub writes it (one <see cref="SerializedHubMessage"/> per event, its bytes for one protocol), in this
/// process and nothing else: no socket, no Redis. JSON with SignalR's default payload options, as the hub has it;
/// MessagePack with the product's options (<see cref="ChatMessagePack.Options"/>).
/// </summary>
internal static class ProtocolCost
{
    public static int Run(int events)
    {
        var chunk = new Chunk(Guid.NewGuid(), Guid.NewGuid(), 123, "backplane ", 1733512345678.123);
        IHubProtocol[] protocols =
        [
            new JsonHubProtocol(),
            new MessagePackHubProtocol(Options.Create(new MessagePackHubProtocolOptions { SerializerOptions = ChatMessagePack.Options })),
        ];
        for (var round = 1; round <= 3; round++)
        {
            foreach (var protocol in protocols)
            {
                var bytes = 0;
                var clock = Stopwatch.StartNew();
                for (var i = 0; i < events; i++)
                {
                    bytes = new SerializedHubMessage(new InvocationMessage(ChatHubMethods.ReceiveChunk, [chunk])).GetSerializedMessage(protocol).Length;
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {round}  {protocol.Name,-12} {bytes,4} bytes per ReceiveChunk frame  {clock.Elapsed.TotalMicroseconds / events,6:0.000} µs per event"));
            }
        }

        return 0;
    }
}
