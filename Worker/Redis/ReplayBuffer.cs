using System.Globalization;
using ChatStreaming.Contracts;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatStreaming.Worker.Redis;

/// <summary>
/// Reads an answer's replay buffer: a Redis Stream whose entry ids are <c>0-sequence</c> (<see cref="RedisKeys.Chunks"/>),
/// so a chunk is written once only and read back from any sequence. <see cref="Delivery.ChunkWriter"/> writes it.
/// Invariant: a chunk is in the replay buffer before it is broadcast, so a client that sees a gap can always fetch it.
/// </summary>
public sealed class ReplayBuffer(IConnectionMultiplexer redis, IOptions<ChatStreamingOptions> options)
{
    private IDatabase Db => redis.GetDatabase();

    /// <summary>
    /// The answer's generation state and its chunks after <paramref name="afterSequence"/>, in order (at most
    /// <c>Chat:MaxChunksPerRead</c>), read together; null when the state is gone.
    /// </summary>
    public async Task<(GenerationInfo Generation, IReadOnlyList<Chunk> Chunks)?> GetChunksAsync(Guid messageId, long afterSequence)
    {
        var batch = Db.CreateBatch();
        var state = batch.HashGetAllAsync(RedisKeys.Generation(messageId));
        var entries = batch.StreamRangeAsync(RedisKeys.Chunks(messageId), minId: $"({StreamId(afterSequence)}", maxId: "+", count: options.Value.MaxChunksPerRead);
        batch.Execute();
        var generation = GenerationInfo.FromHash(messageId, await state);
        if (generation is null)
        {
            return null;
        }

        return (generation, [.. (await entries).Select(e => ToChunk(generation.ConversationId, messageId, e))]);
    }

    /// <summary>What was streamed so far (the whole buffer): the text deltas joined, and every part in order.</summary>
    public async Task<StreamedText> GetStreamedTextAsync(Guid messageId)
    {
        var entries = await Db.StreamRangeAsync(RedisKeys.Chunks(messageId), "-", "+");
        var text = string.Concat(entries.Select(e => (string?)e["d"]));
        var parts = new MessagePartsBuilder();
        foreach (var entry in entries)
        {
            parts.Add((string?)entry["k"] ?? ChunkKinds.Text, (string?)entry["p"] ?? (string?)entry["d"] ?? "");
        }

        return new StreamedText(text, entries.Length == 0 ? 0 : SequenceOf(entries[^1].Id), parts.Build());
    }

    // A text chunk is stored as d (delta) and t (emitted at); another kind adds k (kind) and p (its part), d being empty.
    private static Chunk ToChunk(Guid conversationId, Guid messageId, StreamEntry entry) => new(
        conversationId,
        messageId,
        SequenceOf(entry.Id),
        (string?)entry["d"] ?? "",
        double.Parse((string)entry["t"]!, CultureInfo.InvariantCulture),
        (string?)entry["k"] ?? ChunkKinds.Text,
        (string?)entry["p"]);

    private static string StreamId(long sequence) => $"0-{sequence.ToString(CultureInfo.InvariantCulture)}";

    private static long SequenceOf(RedisValue streamId)
    {
        var id = (string)streamId!;
        return long.Parse(id.AsSpan(id.IndexOf('-') + 1), CultureInfo.InvariantCulture);
    }
}
