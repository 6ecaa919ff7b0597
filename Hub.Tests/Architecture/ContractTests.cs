using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Hub.Tests.Architecture;

[Collection(ClusterCollection.Name)]
public sealed class ContractTests(ChatCluster cluster)
{
    /// <summary>
    /// The MessagePack hub protocol carries the same documents as JSON (docs/protocol.md, "Protocols"): the same field
    /// names, enums and dates as strings, and each round-trips to the same record. Byte for byte what MessagePack makes
    /// of the JSON text (a JSON integer a MessagePack integer, any other number a double), chunks and chunk batches (which
    /// have a formatter of their own) included.
    /// </summary>
    [Fact]
    public void MessagePackArgumentsAreTheJsonDocumentsInBinary()
    {
        var message = new Message(Guid.NewGuid(), Guid.NewGuid(), MessageRole.Assistant, "he", MessageStatus.Interrupted,
            DateTimeOffset.Parse("2026-12-05T01:02:03.456+00:00", System.Globalization.CultureInfo.InvariantCulture), null, 42,
            ParentId: Guid.NewGuid(), SiblingIds: [Guid.NewGuid()], Parts: [new MessagePart(ChunkKinds.Reasoning, "think"), new MessagePart(ChunkKinds.Text, "he")]);
        var chunk = new Chunk(message.ConversationId, message.Id, 7, "d", 1733360523456.25);
        var part = new Chunk(message.ConversationId, message.Id, 8, "", 1733360523457, ChunkKinds.ToolCall, """{"name":"search"}""");
        object[] arguments =
        [
            message, chunk, part, chunk with { EmittedAt = 1e15, Delta = "ünïcødé ✓ " + new string('x', 300) }, chunk with { EmittedAt = 999_999_999_999_999 },
            chunk with { EmittedAt = 1_234_567_890_123_456 }, chunk with { EmittedAt = -0.5, Sequence = long.MaxValue },
            new[] { chunk, part }, new List<Chunk> { part, chunk }, Array.Empty<Chunk>(), message.Id, 7L, "text", true,
        ];
        var web = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        foreach (var argument in arguments)
        {
            var type = argument.GetType();
            var packed = MessagePack.MessagePackSerializer.Serialize(type, argument, ChatMessagePack.Options);
            Assert.Equal(Escaped(JsonSerializer.Serialize(argument, type, web)), Escaped(MessagePack.MessagePackSerializer.ConvertToJson(packed)));
            Assert.Equal(MessagePack.MessagePackSerializer.ConvertFromJson(JsonSerializer.Serialize(argument, type, web)), packed);
            var back = MessagePack.MessagePackSerializer.Deserialize(type, packed, ChatMessagePack.Options);
            Assert.Equal(JsonSerializer.Serialize(argument, type, web), JsonSerializer.Serialize(back, type, web));
        }

        // What a client declares for ReceiveChunks / GetChunks reads a batch; names match case-insensitively, as on JSON.
        var batch = MessagePack.MessagePackSerializer.Serialize(new[] { chunk, part }, ChatMessagePack.Options);
        Assert.Equal([chunk, part], MessagePack.MessagePackSerializer.Deserialize<IReadOnlyList<Chunk>>(batch, ChatMessagePack.Options));
        var shouted = MessagePack.MessagePackSerializer.ConvertFromJson(JsonSerializer.Serialize(part, web).Replace("\"messageId\"", "\"MESSAGEID\"", StringComparison.Ordinal)[..^1] + ""","extra":[1,{"x":2}]}""");
        Assert.Equal(part, MessagePack.MessagePackSerializer.Deserialize<Chunk>(shouted, ChatMessagePack.Options));

        // One escaping for both sides (System.Text.Json writes a quote in a string as \u0022, MessagePack as \").
        static string Escaped(string json) => JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement);
    }

    [Fact]
    public async Task HistoryOverRestIsCamelCaseWithEnumsAsLowercaseStrings()
    {
        await using var client = await cluster.ConnectAsync(cluster.A, "json-shape");
        var conversation = await client.CreateConversationAsync("shape");
        var sent = await client.SendAsync(conversation.Id, "shape of the wire");
        await client.WaitForFinishedAsync(sent.AssistantMessageId);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await cluster.TokenAsync("json-shape"));

        using var json = JsonDocument.Parse(await http.GetStringAsync($"{cluster.B}{ChatHubPaths.Conversations}/{conversation.Id}/messages"));

        var messages = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(["user", "assistant"], messages.Select(m => m.GetProperty("role").GetString()));
        Assert.Equal(["completed", "completed"], messages.Select(m => m.GetProperty("status").GetString()));
        Assert.Equal(sent.AssistantMessageId, messages[1].GetProperty("id").GetGuid());
        Assert.Equal(conversation.Id, messages[1].GetProperty("conversationId").GetGuid());
        Assert.True(messages[1].GetProperty("lastSequence").GetInt64() > 0);
        Assert.True(messages[1].TryGetProperty("createdAt", out _) && messages[1].TryGetProperty("completedAt", out _));
    }

    public static TheoryData<SendMessageRequest?, string> BadSends => new()
    {
        { null, "request is required" },
        { new SendMessageRequest(Guid.Empty, "   "), "content must not be empty" },
        { new SendMessageRequest(Guid.Empty, new string('x', 16_001)), "the limit is 16000" },
        { new SendMessageRequest(Guid.Empty, "hi", new string('k', 65)), "clientMessageId must be 1 to 64 printable ASCII characters" },
        { new SendMessageRequest(Guid.NewGuid(), "hi"), ChatErrors.ConversationNotFound },
    };

    [Theory]
    [MemberData(nameof(BadSends))]
    public async Task ABadSendGetsAClearHubExceptionAndSavesNothing(SendMessageRequest? request, string expected)
    {
        await using var client = await cluster.ConnectAsync(cluster.A, "bad-input");

        var error = await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeCoreAsync(ChatHubMethods.SendMessage, typeof(SendMessageResult), [request]).WithTimeout());

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error.Message, StringComparison.Ordinal); // no stack trace
    }

    [Fact]
    public async Task ReplayOfAMessageWhoseBufferIsGoneSaysSoExplicitly()
    {
        await using var client = await cluster.ConnectAsync(cluster.A, "gone");
        var conversation = await client.CreateConversationAsync();
        var sent = await client.SendAsync(conversation.Id, "soon gone");
        await client.WaitForFinishedAsync(sent.AssistantMessageId);
        var db = cluster.RedisClient.GetDatabase();
        await db.KeyDeleteAsync([ChatStreaming.Worker.Redis.RedisKeys.Generation(conversation.Id, sent.AssistantMessageId), ChatStreaming.Worker.Redis.RedisKeys.Chunks(conversation.Id, sent.AssistantMessageId)]);

        var error = await Assert.ThrowsAsync<HubException>(() => client.Hub.GetChunks(sent.AssistantMessageId, 0L));

        Assert.EndsWith(ChatErrors.ReplayUnavailable, error.Message, StringComparison.Ordinal);
        Assert.False(await client.Hub.CancelGeneration(sent.AssistantMessageId));
    }
}
