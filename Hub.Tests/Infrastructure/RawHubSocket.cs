using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>
/// SignalR's JSON protocol on a raw WebSocket, for clients that misbehave on purpose: one that negotiates stateful
/// reconnect and never acknowledges, one that stops reading its socket (with a small receive buffer, so the server's
/// writes back up soon). It negotiates, connects with the connection token, shakes hands, invokes and reads completions.
/// </summary>
internal sealed class RawHubSocket : IAsyncDisposable
{
    private const char RecordSeparator = '\u001e';
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ClientWebSocket socket;
    private readonly HttpMessageInvoker invoker;
    private int invocations;

    private RawHubSocket(ClientWebSocket socket, HttpMessageInvoker invoker, string connectionId)
    {
        this.socket = socket;
        this.invoker = invoker;
        ConnectionId = connectionId;
    }

    /// <summary>The id the server knows this connection by (its logs name it).</summary>
    public string ConnectionId { get; }

    public static async Task<RawHubSocket> ConnectAsync(string baseUrl, string token, bool statefulReconnect, int receiveBufferBytes = 0)
    {
        using var http = new HttpClient();
        using var negotiate = new HttpRequestMessage(HttpMethod.Post, $"{baseUrl}{ChatHubPaths.Hub}/negotiate?negotiateVersion=1&{ChatHubPaths.ChunkBatchesParameter}=true{(statefulReconnect ? "&useStatefulReconnect=true" : "")}");
        negotiate.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var negotiated = await http.SendAsync(negotiate).WithTimeout();
        negotiated.EnsureSuccessStatusCode();
        var body = JsonDocument.Parse(await negotiated.Content.ReadAsStringAsync()).RootElement;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var tcp = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                if (receiveBufferBytes > 0)
                {
                    tcp.ReceiveBufferSize = receiveBufferBytes; // before connecting: it bounds the window the server may fill
                }

                await tcp.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(tcp, ownsSocket: true);
            },
        };
        var invoker = new HttpMessageInvoker(handler);
        var socket = new ClientWebSocket();
        var uri = new Uri($"{baseUrl.Replace("http", "ws", StringComparison.Ordinal)}{ChatHubPaths.Hub}?id={body.GetProperty("connectionToken").GetString()}&{ChatHubPaths.ChunkBatchesParameter}=true&access_token={Uri.EscapeDataString(token)}");
        await socket.ConnectAsync(uri, invoker, CancellationToken.None).WithTimeout();
        var raw = new RawHubSocket(socket, invoker, body.GetProperty("connectionId").GetString()!);
        // Version 2 of the hub protocol is what turns stateful reconnect on (acknowledgements, the server's replay buffer).
        await raw.SendAsync($$"""{"protocol":"json","version":{{(statefulReconnect ? 2 : 1)}}}""");
        var handshake = await raw.ReceiveRecordsAsync() ?? throw new InvalidOperationException("closed during the handshake");
        return handshake.Any(r => r.TryGetProperty("error", out _)) ? throw new InvalidOperationException($"handshake refused: {handshake[0]}") : raw;
    }

    /// <summary>Invokes <paramref name="target"/> and reads until its completion (skipping everything else); its result.</summary>
    public async Task<JsonElement> InvokeAsync(string target, params object?[] arguments)
    {
        var id = $"raw-{Interlocked.Increment(ref invocations)}";
        await SendAsync(JsonSerializer.Serialize(new { type = 1, invocationId = id, target, arguments }, Json));
        while (await ReceiveRecordsAsync().WithTimeout() is { } records)
        {
            foreach (var record in records)
            {
                if (record.GetProperty("type").GetInt32() == 3 && record.TryGetProperty("invocationId", out var of) && of.GetString() == id)
                {
                    return record.TryGetProperty("error", out var error) ? throw new InvalidOperationException(error.GetString()) : record.GetProperty("result").Clone();
                }
            }
        }

        throw new InvalidOperationException($"the connection closed before {target} completed");
    }

    /// <summary>Reads (and drops) everything until the server closes the connection; never acknowledges anything.</summary>
    public async Task ReadUntilClosedAsync()
    {
        while (await ReceiveRecordsAsync() is not null)
        {
        }
    }

    private Task SendAsync(string record) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(record + RecordSeparator), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).WithTimeout();

    /// <summary>The next WebSocket message's records; null once the server closed the connection.</summary>
    private async Task<List<JsonElement>?> ReceiveRecordsAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        WebSocketReceiveResult received;
        do
        {
            try
            {
                received = await socket.ReceiveAsync(buffer, CancellationToken.None);
            }
            catch (WebSocketException)
            {
                return null; // aborted by the server
            }

            if (received.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            message.Write(buffer, 0, received.Count);
        }
        while (!received.EndOfMessage);
        var text = Encoding.UTF8.GetString(message.ToArray());
        return [.. text.Split(RecordSeparator, StringSplitOptions.RemoveEmptyEntries).Select(r => JsonDocument.Parse(r).RootElement.Clone())];
    }

    public ValueTask DisposeAsync()
    {
        socket.Abort();
        socket.Dispose();
        invoker.Dispose();
        return ValueTask.CompletedTask;
    }
}
