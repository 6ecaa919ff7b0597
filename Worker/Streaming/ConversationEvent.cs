using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using ChatStreaming.Contracts;
using ChatStreaming.Worker.Redis;

namespace ChatStreaming.Worker.Streaming;

/// <summary>
/// One event for a conversation's connections, as it travels on <see cref="RedisKeys.ConversationEvents"/>: the hub
/// method the clients receive (<see cref="ChatHubMethods"/>) and its argument.
/// Wire format: one kind byte, the publishing instance's id (16 bytes), then for a chunk the message id (16 bytes),
/// the sequence (int64) and the emitted-at time (float64, Unix ms), both little-endian, and the delta in UTF-8; a chunk
/// that is not text (reasoning, a tool call or result) has one more byte after the time, its kind, then its part in
/// UTF-8; for the other events their JSON. Chunks are binary because they are nearly every event; the rest are rare.
/// </summary>
internal readonly record struct ConversationEvent(string Method, object Argument)
{
    private const int HeaderBytes = 1 + 16;
    private const int ChunkHeaderBytes = HeaderBytes + 16 + 8 + 8;

    private enum Kind : byte
    {
        Chunk = 1,
        GenerationStarted = 2,
        GenerationFinished = 3,
        MessageAdded = 4,
        PartChunk = 5,
        GenerationResumed = 6,
    }

    // The kinds of a PartChunk, by their byte.
    private static readonly string[] PartKinds = [ChunkKinds.Text, ChunkKinds.Reasoning, ChunkKinds.ToolCall, ChunkKinds.ToolResult];

    public static byte[] Encode(Guid origin, Chunk chunk)
    {
        if (chunk.Kind != ChunkKinds.Text)
        {
            return EncodePart(origin, chunk);
        }

        var payload = new byte[ChunkHeaderBytes + Encoding.UTF8.GetByteCount(chunk.Delta)];
        var span = payload.AsSpan();
        WriteHeader(span, Kind.Chunk, origin);
        chunk.MessageId.TryWriteBytes(span[HeaderBytes..]);
        BinaryPrimitives.WriteInt64LittleEndian(span[(HeaderBytes + 16)..], chunk.Sequence);
        BinaryPrimitives.WriteDoubleLittleEndian(span[(HeaderBytes + 24)..], chunk.EmittedAt);
        Encoding.UTF8.GetBytes(chunk.Delta, span[ChunkHeaderBytes..]);
        return payload;
    }

    private static byte[] EncodePart(Guid origin, Chunk chunk)
    {
        var part = chunk.Part ?? "";
        var payload = new byte[ChunkHeaderBytes + 1 + Encoding.UTF8.GetByteCount(part)];
        var span = payload.AsSpan();
        WriteHeader(span, Kind.PartChunk, origin);
        chunk.MessageId.TryWriteBytes(span[HeaderBytes..]);
        BinaryPrimitives.WriteInt64LittleEndian(span[(HeaderBytes + 16)..], chunk.Sequence);
        BinaryPrimitives.WriteDoubleLittleEndian(span[(HeaderBytes + 24)..], chunk.EmittedAt);
        span[ChunkHeaderBytes] = (byte)Array.IndexOf(PartKinds, chunk.Kind);
        Encoding.UTF8.GetBytes(part, span[(ChunkHeaderBytes + 1)..]);
        return payload;
    }

    public static byte[] Encode(Guid origin, GenerationStarted started) => EncodeJson(Kind.GenerationStarted, origin, started);

    public static byte[] Encode(Guid origin, GenerationFinished finished) => EncodeJson(Kind.GenerationFinished, origin, finished);

    public static byte[] Encode(Guid origin, GenerationResumed resumed) => EncodeJson(Kind.GenerationResumed, origin, resumed);

    public static byte[] Encode(Guid origin, Message added) => EncodeJson(Kind.MessageAdded, origin, added);

    /// <summary>The instance that published <paramref name="payload"/>.</summary>
    public static Guid OriginOf(ReadOnlySpan<byte> payload) =>
        payload.Length >= HeaderBytes ? new Guid(payload.Slice(1, 16)) : Guid.Empty;

    /// <summary>The event in <paramref name="payload"/>; null when it is not one this version knows (skipped, not fatal).</summary>
    public static ConversationEvent? Decode(Guid conversationId, ReadOnlySpan<byte> payload)
    {
        if (payload.Length < HeaderBytes)
        {
            return null;
        }

        var body = payload[HeaderBytes..];
        return (Kind)payload[0] switch
        {
            Kind.Chunk when payload.Length >= ChunkHeaderBytes => new ConversationEvent(ChatHubMethods.ReceiveChunk, new Chunk(
                conversationId,
                new Guid(body[..16]),
                BinaryPrimitives.ReadInt64LittleEndian(body[16..]),
                Encoding.UTF8.GetString(payload[ChunkHeaderBytes..]),
                BinaryPrimitives.ReadDoubleLittleEndian(body[24..]))),
            Kind.PartChunk when payload.Length > ChunkHeaderBytes && payload[ChunkHeaderBytes] is > 0 and var kind && kind < PartKinds.Length =>
                new ConversationEvent(ChatHubMethods.ReceiveChunk, new Chunk(
                    conversationId,
                    new Guid(body[..16]),
                    BinaryPrimitives.ReadInt64LittleEndian(body[16..]),
                    "",
                    BinaryPrimitives.ReadDoubleLittleEndian(body[24..]),
                    PartKinds[kind],
                    Encoding.UTF8.GetString(payload[(ChunkHeaderBytes + 1)..]))),
            Kind.GenerationStarted => new ConversationEvent(ChatHubMethods.GenerationStarted, JsonSerializer.Deserialize<GenerationStarted>(body, Json)!),
            Kind.GenerationFinished => new ConversationEvent(ChatHubMethods.GenerationFinished, JsonSerializer.Deserialize<GenerationFinished>(body, Json)!),
            Kind.MessageAdded => new ConversationEvent(ChatHubMethods.MessageAdded, JsonSerializer.Deserialize<Message>(body, Json)!),
            Kind.GenerationResumed => new ConversationEvent(ChatHubMethods.GenerationResumed, JsonSerializer.Deserialize<GenerationResumed>(body, Json)!),
            _ => null,
        };
    }

    private static byte[] EncodeJson<T>(Kind kind, Guid origin, T value)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(value, Json);
        var payload = new byte[HeaderBytes + json.Length];
        WriteHeader(payload, kind, origin);
        json.CopyTo(payload, HeaderBytes);
        return payload;
    }

    private static void WriteHeader(Span<byte> payload, Kind kind, Guid origin)
    {
        payload[0] = (byte)kind;
        origin.TryWriteBytes(payload[1..]);
    }

    private static readonly JsonSerializerOptions Json = JsonSerializerOptions.Web;
}
