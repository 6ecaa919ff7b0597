using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace ChatStreaming.Hub.Tests.Security;

/// <summary>
/// 1,000 malformed invocations over a raw WebSocket speaking SignalR's JSON protocol: every one gets an error (a
/// completion, or a close message when the frame is not even an invocation), none carries internal detail, the server
/// stays up and serves everyone else.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class MalformedInvocationTests(ChatCluster cluster)
{
    private const char RecordSeparator = '\u001e';

    /// <summary>Parseable frames whose invocation is wrong: each must get a completion with an error.</summary>
    private static IEnumerable<string> BadInvocations(string conversationId)
    {
        var hugeArray = "[" + string.Join(",", Enumerable.Repeat("1", 20_000)) + "]";
        string[] templates =
        [
            """{"type":1,"invocationId":"ID","target":"NoSuchMethod","arguments":[]}""",
            """{"type":1,"invocationId":"ID","target":"OnConnectedAsync","arguments":[]}""",
            """{"type":1,"invocationId":"ID","target":"Dispose","arguments":[]}""",
            """{"type":1,"invocationId":"ID","target":"SendMessage","arguments":[]}""",
            """{"type":1,"invocationId":"ID","target":"SendMessage","arguments":[42]}""",
            """{"type":1,"invocationId":"ID","target":"SendMessage","arguments":["not an object"]}""",
            """{"type":1,"invocationId":"ID","target":"SendMessage","arguments":[{"conversationId":"not-a-uuid","content":"hi"}]}""",
            """{"type":1,"invocationId":"ID","target":"SendMessage","arguments":[{"conversationId":12,"content":["x"]}]}""",
            """{"type":1,"invocationId":"ID","target":"SendMessage","arguments":[{"conversationId":"CONV","content":{"nested":true}}]}""",
            """{"type":1,"invocationId":"ID","target":"SendMessage","arguments":[{"conversationId":"CONV","content":"hi"},"extra"]}""",
            """{"type":1,"invocationId":"ID","target":"JoinConversation","arguments":["00000000-0000-0000-0000-00000000000Z"]}""",
            """{"type":1,"invocationId":"ID","target":"JoinConversation","arguments":[null]}""",
            """{"type":1,"invocationId":"ID","target":"GetChunks","arguments":["{}",-1]}""",
            """{"type":1,"invocationId":"ID","target":"GetChunks","arguments":["CONV","nine"]}""",
            """{"type":1,"invocationId":"ID","target":"GetChunks","arguments":["CONV",1e400]}""",
            """{"type":1,"invocationId":"ID","target":"CancelGeneration","arguments":[true]}""",
            """{"type":1,"invocationId":"ID","target":"CreateConversation","arguments":[{"title":"x"}]}""",
            """{"type":1,"invocationId":"ID","target":"CreateConversation","arguments":["lone surrogate \uDC00"]}""",
            """{"type":1,"invocationId":"ID","target":"ListConversations","arguments":[1,2,3]}""",
            """{"type":1,"invocationId":"ID","target":"SendMessage","arguments":HUGE}""",
            """{"type":1,"invocationId":"ID","target":"JoinConversation","arguments":[HUGE]}""",
            """{"type":4,"invocationId":"ID","target":"SendMessage","arguments":[{"conversationId":"CONV","content":"as a stream"}]}""",
        ];
        for (var i = 0; ; i++)
        {
            yield return templates[i % templates.Length]
                .Replace("ID", $"bad-{i}", StringComparison.Ordinal)
                .Replace("CONV", conversationId, StringComparison.Ordinal)
                .Replace("HUGE", hugeArray, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// Frames that are not invocations at all: the server must close that connection with an error, nothing more.
    /// (A frame of an unknown message type is ignored by design: the protocol lets old servers skip newer messages.)
    /// </summary>
    private static readonly string[] BrokenFrames =
    [
        """{"type":1,"invocationId":"x","target":"SendMessage","arguments":[""",
        """not json at all""",
        """{"type":1,"invocationId":"x","arguments":[]}""",
        """{"type":"one","target":"SendMessage"}""",
        """[1,2,3]""",
        """{"type":1,"invocationId":{"a":1},"target":"SendMessage","arguments":[]}""",
    ];

    [Fact]
    public async Task AThousandMalformedInvocationsEachGetAnErrorWithoutInternalsAndTheServerStaysUp()
    {
        var token = await cluster.TokenAsync("garbage");
        await using var owner = await ChatTestClient.ConnectAsync(cluster.A, token);
        var conversation = await owner.CreateConversationAsync();
        const int BrokenConnections = 40;
        const int Invocations = 1_000 - BrokenConnections;

        using var socket = await OpenAsync(token);
        var sent = BadInvocations(conversation.Id.ToString()).Take(Invocations).ToList();
        foreach (var frame in sent)
        {
            await SendAsync(socket, frame);
        }

        var completions = new Dictionary<string, JsonElement>();
        while (completions.Count < Invocations)
        {
            foreach (var message in await ReceiveAsync(socket))
            {
                if (message.GetProperty("type").GetInt32() == 3)
                {
                    completions[message.GetProperty("invocationId").GetString()!] = message;
                }
            }
        }

        var closes = new List<string>();
        for (var i = 0; i < BrokenConnections; i++)
        {
            using var doomed = await OpenAsync(token);
            await SendAsync(doomed, BrokenFrames[i % BrokenFrames.Length]);
            closes.Add(await ReadUntilClosedAsync(doomed));
        }

        Assert.All(Enumerable.Range(0, Invocations), i => Assert.True(completions.ContainsKey($"bad-{i}"), $"no completion for bad-{i}: {sent[i][..Math.Min(120, sent[i].Length)]}"));
        Assert.All(completions.Values, c =>
        {
            Assert.True(c.TryGetProperty("error", out var error), $"not an error: {c}");
            AssertNoInternals(error.GetString()!);
        });
        Assert.All(closes, AssertNoInternals);

        // Still up, still serving: the same client's real answer completes.
        var answer = await owner.SendAsync(conversation.Id, "still here?");
        Assert.Equal(MessageStatus.Completed, (await owner.WaitForFinishedAsync(answer.AssistantMessageId)).Status);
    }

    private static void AssertNoInternals(string text)
    {
        text = text.Replace("HubException: ", "", StringComparison.Ordinal); // SignalR's prefix of a hub's own message
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        foreach (var detail in new[] { "Exception", "Npgsql", "StackExchange", "System.", "ChatStreaming.", "/work", ".cs:" })
        {
            Assert.DoesNotContain(detail, text, StringComparison.Ordinal);
        }
    }

    private async Task<ClientWebSocket> OpenAsync(string token)
    {
        var socket = new ClientWebSocket();
        var uri = new Uri($"{cluster.A.Replace("http", "ws", StringComparison.Ordinal)}{ChatHubPaths.Hub}?access_token={Uri.EscapeDataString(token)}");
        await socket.ConnectAsync(uri, CancellationToken.None).WithTimeout();
        await SendAsync(socket, """{"protocol":"json","version":1}""");
        var handshake = await ReceiveAsync(socket);
        Assert.False(handshake[0].TryGetProperty("error", out _), $"handshake refused: {handshake[0]}");
        return socket;
    }

    private static Task SendAsync(ClientWebSocket socket, string frame) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(frame + RecordSeparator), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).WithTimeout();

    /// <summary>The next WebSocket message's SignalR records (pings skipped by the caller's loop).</summary>
    private static async Task<List<JsonElement>> ReceiveAsync(ClientWebSocket socket)
    {
        var text = await ReceiveTextAsync(socket) ?? throw new InvalidOperationException("the server closed the connection");
        return [.. text.Split(RecordSeparator, StringSplitOptions.RemoveEmptyEntries).Select(r => JsonDocument.Parse(r).RootElement.Clone())];
    }

    /// <summary>Everything the server says before it closes the connection.</summary>
    private static async Task<string> ReadUntilClosedAsync(ClientWebSocket socket)
    {
        var said = new StringBuilder();
        while (await ReceiveTextAsync(socket) is { } text)
        {
            said.Append(text);
        }

        Assert.Contains("\"type\":7", said.ToString(), StringComparison.Ordinal); // a close message, with its error
        return said.ToString();
    }

    private static async Task<string?> ReceiveTextAsync(ClientWebSocket socket)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        using var timeout = new CancellationTokenSource(Wait.Default);
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(message.ToArray());
            }
        }
    }
}
