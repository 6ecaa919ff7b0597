using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ChatStreaming.Contracts;
using ChatStreaming.Worker.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatStreaming.Worker.Streaming;

/// <summary>
/// An answer's replay buffer, both ways: the one script that appends a chunk (and publishes it), and the reads. A
/// Redis Stream whose entry ids are <c>0-sequence</c> (<see cref="RedisKeys.Chunks"/>), so a chunk is written once
/// only and read back from any sequence. The stream's field names are spelled here and nowhere else.
/// Invariant: a chunk is in the replay buffer before it is published, so a client that sees a gap can always fetch it.
/// </summary>
internal sealed class ReplayStream(IConnectionMultiplexer redis, RedisTopology topology, IOptions<ChatStreamingOptions> options)
{
    // A text chunk is stored as d (delta) and t (emitted at); another kind adds k (kind) and p (its part), d being empty.
    private const string DeltaField = "d";
    private const string EmittedAtField = "t";
    private const string KindField = "k";
    private const string PartField = "p";
    private const string ContinuationField = "c";

    // KEYS: chunks stream, generation hash. ARGV: sequence, delta, emitted at, TTL (ms), events channel, payload, the
    // writer's epoch, then kind, part and model continuation, each empty when it has none (a text chunk of a model that
    // gives no continuation, nearly all of them, sends the first seven only). A continuation is stored as c: where a
    // resumable model's stream goes on after this chunk (a successor reads the buffer's last one).
    // Idempotent without a read: XADD with an explicit id refuses an id not above the stream's top, which is a repeat
    // (chunks of an answer are written in order). Any other error (a key of the wrong type…) is the caller's.
    // The TTL slides with every chunk: while its answer runs, a buffer lives the running TTL (Chat:ReplayTtl, at least two
    // leases; the lease renewal refreshes it too) after its last chunk, so a successor finds it whole; the end sets it to
    // Chat:ReplayTtl.
    // Refused (-1) once the answer's status is final, or when the writer's epoch is not the answer's current one (another
    // instance took the answer over: fencing): an instance that was paused while another one ended or carried on its
    // answer adds nothing (the state being gone, after a Redis restart, does not refuse).
    // Refused (-2) when the buffer's top is below the chunk before this one: Redis lost the buffer's tail (a failover to
    // a replica that had not received the last appends, a restart), and the owner writes it back first (ChunkSink), so
    // the buffer never holds a silent gap. One XREVRANGE of one entry: O(1) next to the XADD.
    // The publish is PUBLISH on a single node, SPUBLISH on a cluster (the channel is in the slot of both keys).
    private const string AppendScriptTemplate = $$"""
        local state = redis.call('HMGET', KEYS[2], 'status', 'epoch')
        if (state[1] and state[1] ~= 'streaming') or (state[2] and state[2] ~= ARGV[7]) then
            return -1
        end
        local sequence = tonumber(ARGV[1])
        if sequence > 1 then
            local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
            if not top or tonumber(string.match(top[1], '%d+$')) < sequence - 1 then
                return -2
            end
        end
        local added
        if #ARGV > 7 then
            local fields = {'XADD', KEYS[1], '0-' .. ARGV[1], '{{DeltaField}}', ARGV[2], '{{EmittedAtField}}', ARGV[3]}
            if ARGV[8] ~= '' then
                table.insert(fields, '{{KindField}}')
                table.insert(fields, ARGV[8])
                table.insert(fields, '{{PartField}}')
                table.insert(fields, ARGV[9])
            end
            if ARGV[10] ~= '' then
                table.insert(fields, '{{ContinuationField}}')
                table.insert(fields, ARGV[10])
            end
            added = redis.pcall(unpack(fields))
        else
            added = redis.pcall('XADD', KEYS[1], '0-' .. ARGV[1], '{{DeltaField}}', ARGV[2], '{{EmittedAtField}}', ARGV[3])
        end
        if type(added) == 'table' and added.err then
            if string.find(added.err, 'equal or smaller', 1, true) then
                return 0
            end
            return redis.error_reply(added.err)
        end
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        redis.call('PUBLISH_COMMAND', ARGV[5], ARGV[6])
        return 1
        """;

    // Each chunk runs the script by its SHA1 (EVALSHA), hashed here once: StackExchange.Redis's by-text overload looks
    // the text up in its per-server cache on every call, which hashes the whole script each time (1.3 % of a hub's CPU
    // under the benchmark's load: docs/benchmarks-profile.md, "the append script by its hash"). A Redis that does not
    // know the script (restarted, failed over, SCRIPT FLUSH, a new cluster node) answers NOSCRIPT: that chunk is then
    // appended with EVAL (AppendLoadingAsync), which caches the script there for the next ones.
    private static readonly (string Text, byte[] Hash) NodeAppendScript = AppendScriptFor("PUBLISH");
    private static readonly (string Text, byte[] Hash) ClusterAppendScript = AppendScriptFor("SPUBLISH");

    private readonly RedisValue ttlMilliseconds = (long)options.Value.RunningAnswerTtl.TotalMilliseconds;

    private IDatabase Db => redis.GetDatabase();

    /// <summary>The append script for this Redis: PUBLISH on a single node, SPUBLISH on a cluster.</summary>
    private (string Text, byte[] Hash) AppendScriptHere => topology.IsCluster ? ClusterAppendScript : NodeAppendScript;

    /// <summary>
    /// Queues the append of <paramref name="chunk"/> (and the publish of <paramref name="payload"/>) on
    /// <paramref name="batch"/>, by the script's hash; its result, once the batch is sent, is read by
    /// <see cref="WriteOf"/>. It fails with <see cref="IsUnknownScript"/> when that Redis does not know the script yet:
    /// then <see cref="AppendLoadingAsync"/>.
    /// </summary>
    public Task<RedisResult> Append(IBatch batch, AnswerKeys keys, Chunk chunk, byte[] payload, byte[]? continuation = null) =>
        batch.ScriptEvaluateAsync(AppendScriptHere.Hash, [keys.Chunks, keys.Generation], AppendArguments(keys, chunk, payload, continuation));

    /// <summary>The same append with the script's text (EVAL), which also caches the script on that Redis.</summary>
    public Task<RedisResult> AppendLoadingAsync(AnswerKeys keys, Chunk chunk, byte[] payload, byte[]? continuation = null) =>
        Db.ScriptEvaluateAsync(AppendScriptHere.Text, [keys.Chunks, keys.Generation], AppendArguments(keys, chunk, payload, continuation), CommandFlags.NoScriptCache);

    /// <summary>Redis answered NOSCRIPT: it does not have the script (restarted, failed over, flushed, a new node).</summary>
    public static bool IsUnknownScript(Exception exception) =>
        exception is RedisServerException && exception.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal);

#pragma warning disable CA5350 // not security: SHA1 is how Redis names a script (EVALSHA)
    private static (string Text, byte[] Hash) AppendScriptFor(string publish)
    {
        var text = AppendScriptTemplate.Replace("PUBLISH_COMMAND", publish, StringComparison.Ordinal);
        return (text, SHA1.HashData(Encoding.UTF8.GetBytes(text)));
    }
#pragma warning restore CA5350

    private RedisValue[] AppendArguments(AnswerKeys keys, Chunk chunk, byte[] payload, byte[]? continuation) =>
        chunk.Kind == ChunkKinds.Text && continuation is null
            ? [chunk.Sequence, chunk.Delta, chunk.EmittedAt, ttlMilliseconds, keys.Events, payload, keys.Epoch]
            : [
                chunk.Sequence, chunk.Delta, chunk.EmittedAt, ttlMilliseconds, keys.Events, payload, keys.Epoch,
                chunk.Kind == ChunkKinds.Text ? "" : chunk.Kind, chunk.Part ?? "", continuation ?? [],
            ];

    /// <summary>What the append script did.</summary>
    public static ChunkWrite WriteOf(RedisResult appended) => (int)appended switch
    {
        1 => ChunkWrite.Written,
        0 => ChunkWrite.Repeated,
        -2 => ChunkWrite.Gap,
        _ => ChunkWrite.Ended,
    };

    /// <summary>
    /// The answer's generation state and its chunks after <paramref name="afterSequence"/>, in order (at most
    /// <c>Chat:MaxChunksPerRead</c>), read together; null when the state is gone.
    /// </summary>
    public async Task<(GenerationInfo Generation, IReadOnlyList<Chunk> Chunks)?> GetChunksAsync(Guid conversationId, Guid messageId, long afterSequence)
    {
        var batch = Db.CreateBatch();
        var state = batch.HashGetAllAsync(RedisKeys.Generation(conversationId, messageId));
        var entries = batch.StreamRangeAsync(RedisKeys.Chunks(conversationId, messageId), minId: $"({StreamId(afterSequence)}", maxId: "+", count: options.Value.MaxChunksPerRead);
        batch.Execute();
        var generation = GenerationInfo.FromHash(messageId, await state);
        if (generation is null)
        {
            return null;
        }

        return (generation, [.. (await entries).Select(e => ToChunk(generation.ConversationId, messageId, e))]);
    }

    /// <summary>The highest sequence in the answer's replay buffer; 0 when it is empty or gone.</summary>
    public async Task<long> TopSequenceAsync(AnswerKeys keys)
    {
        var top = await Db.StreamRangeAsync(keys.Chunks, "-", "+", count: 1, messageOrder: Order.Descending);
        return top.Length == 0 ? 0 : SequenceOf(top[0].Id);
    }

    /// <summary>What was streamed so far (the whole buffer): the text deltas joined, and every part in order.</summary>
    public async Task<StreamedText> GetStreamedTextAsync(Guid conversationId, Guid messageId)
    {
        var entries = await Db.StreamRangeAsync(RedisKeys.Chunks(conversationId, messageId), "-", "+");
        var text = string.Concat(entries.Select(e => (string?)e[DeltaField]));
        var parts = new MessagePartsBuilder();
        foreach (var entry in entries)
        {
            parts.Add((string?)entry[KindField] ?? ChunkKinds.Text, (string?)entry[PartField] ?? (string?)entry[DeltaField] ?? "");
        }

        var continuation = entries.Length == 0 ? RedisValue.Null : entries[^1][ContinuationField];
        return new StreamedText(text, entries.Length == 0 ? 0 : SequenceOf(entries[^1].Id), parts.Build(), continuation.IsNull ? null : (byte[]?)continuation);
    }

    private static Chunk ToChunk(Guid conversationId, Guid messageId, StreamEntry entry) => new(
        conversationId,
        messageId,
        SequenceOf(entry.Id),
        (string?)entry[DeltaField] ?? "",
        double.Parse((string)entry[EmittedAtField]!, CultureInfo.InvariantCulture),
        (string?)entry[KindField] ?? ChunkKinds.Text,
        (string?)entry[PartField]);

    private static string StreamId(long sequence) => $"0-{sequence.ToString(CultureInfo.InvariantCulture)}";

    private static long SequenceOf(RedisValue streamId)
    {
        var id = (string)streamId!;
        return long.Parse(id.AsSpan(id.IndexOf('-') + 1), CultureInfo.InvariantCulture);
    }
}
