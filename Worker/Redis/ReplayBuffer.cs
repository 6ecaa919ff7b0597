using System.Globalization;
using ChatStreaming.Contracts;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatStreaming.Worker.Redis;

/// <summary>
/// An answer's replay buffer: a Redis Stream whose entry ids are <c>0-sequence</c> (<see cref="RedisKeys.Chunks"/>),
/// so a chunk can be written once only and read back from any sequence.
/// Invariant: a chunk is in the replay buffer before it is broadcast, so a client that sees a gap can always fetch it.
/// </summary>
public sealed class ReplayBuffer(IConnectionMultiplexer redis, IOptions<ChatStreamingOptions> options)
{
    // The TTL slides with every chunk, so a buffer lives ReplayTtl after its last chunk (and a key recreated after a
    // Redis restart gets one too). Idempotent: a chunk offered again (its first write timed out) is not written twice.
    // Refused (-1) once the answer's status is final: an instance that was paused while another one ended its answer
    // adds nothing after the end (the state being gone, after a Redis restart, does not refuse).
    private const string AppendScript = """
        local status = redis.call('HGET', KEYS[2], 'status')
        if status and status ~= 'streaming' then
            return -1
        end
        local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
        if last and tonumber(string.sub(last[1], 3)) >= tonumber(ARGV[1]) then
            return 0
        end
        redis.call('XADD', KEYS[1], '0-' .. ARGV[1], 'd', ARGV[2], 't', ARGV[3])
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        return 1
        """;

    private IDatabase Db => redis.GetDatabase();

    /// <summary>
    /// Writes the chunk (once: a repeat is a no-op). False when the answer has already ended (someone else ended it):
    /// the chunk must not be broadcast, and its generation should stop.
    /// </summary>
    public async Task<bool> AppendAsync(Chunk chunk) =>
        (int)await Db.ScriptEvaluateAsync(
            AppendScript,
            [RedisKeys.Chunks(chunk.MessageId), RedisKeys.Generation(chunk.MessageId)],
            [chunk.Sequence, chunk.Delta, chunk.EmittedAt.ToString("R", CultureInfo.InvariantCulture), (long)options.Value.ReplayTtl.TotalMilliseconds]) >= 0;

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

    /// <summary>The text streamed so far (the whole buffer, deltas joined).</summary>
    public async Task<StreamedText> GetStreamedTextAsync(Guid messageId)
    {
        var entries = await Db.StreamRangeAsync(RedisKeys.Chunks(messageId), "-", "+");
        var text = string.Concat(entries.Select(e => (string?)e["d"]));
        return new StreamedText(text, entries.Length == 0 ? 0 : SequenceOf(entries[^1].Id));
    }

    private static Chunk ToChunk(Guid conversationId, Guid messageId, StreamEntry entry) => new(
        conversationId,
        messageId,
        SequenceOf(entry.Id),
        (string?)entry["d"] ?? "",
        double.Parse((string)entry["t"]!, CultureInfo.InvariantCulture));

    private static string StreamId(long sequence) => $"0-{sequence.ToString(CultureInfo.InvariantCulture)}";

    private static long SequenceOf(RedisValue streamId)
    {
        var id = (string)streamId!;
        return long.Parse(id.AsSpan(id.IndexOf('-') + 1), CultureInfo.InvariantCulture);
    }
}
