namespace ChatStreaming.Bench.Baseline;

/// <summary>The baselines' SQL: one row per chunk (what ChatStreaming avoids), read by polling or pushed by NOTIFY.</summary>
internal static class BaselineSql
{
    public const string Channel = "bench_chunks";

    /// <summary>
    /// Both baseline instances start at once, and two CREATE TABLE IF NOT EXISTS racing can both try to create it (23505
    /// on pg_type): one at a time, under a transaction-scoped advisory lock (one command, so one implicit transaction).
    /// </summary>
    public const string CreateTable = """
        SELECT pg_advisory_xact_lock(hashtext('bench_chunks'));
        CREATE TABLE IF NOT EXISTS bench_chunks (
            stream_id  uuid             NOT NULL,
            seq        bigint           NOT NULL,
            delta      text             NOT NULL,
            emitted_at double precision NOT NULL,
            PRIMARY KEY (stream_id, seq)
        )
        """;

    public const string Insert = "INSERT INTO bench_chunks (stream_id, seq, delta, emitted_at) VALUES (@s, @q, @d, @t)";

    public const string InsertAndNotify = """
        WITH row AS (INSERT INTO bench_chunks (stream_id, seq, delta, emitted_at) VALUES (@s, @q, @d, @t) RETURNING 1)
        SELECT pg_notify('bench_chunks', @payload) FROM row
        """;

    public const string Poll = "SELECT seq, delta, emitted_at FROM bench_chunks WHERE stream_id = @s AND seq > @q ORDER BY seq";

    /// <summary>
    /// Best polling: every stream an instance watches, each after its own last sequence, in one query. LATERAL makes it
    /// one primary-key range scan per stream (a plain join lets the planner scan the whole table once it is large).
    /// </summary>
    public const string PollMany = """
        SELECT w.stream_id, c.seq, c.delta, c.emitted_at
        FROM unnest(@ids, @after) AS w(stream_id, after)
        CROSS JOIN LATERAL (
            SELECT seq, delta, emitted_at FROM bench_chunks
            WHERE stream_id = w.stream_id AND seq > w.after
            ORDER BY seq
        ) c
        ORDER BY w.stream_id, c.seq
        """;
}
