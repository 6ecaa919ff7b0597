using System.Text;
using System.Threading.Channels;
using ChatStreaming.Contracts;
using ChatStreaming.Worker.Model;

namespace ChatStreaming.Worker.Streaming;

/// <summary>
/// Moves one answer's deltas from the model reader to the sink as numbered chunks.
/// The model reader writes to an unbounded channel and never waits; while the sink is busy, deltas queue up and the
/// next chunk takes all of them at once (coalescing), so a slow Redis slows chunk rate, never the model read. Only
/// deltas of the same kind coalesce, and only text and reasoning: a tool call or result is always a chunk of its own.
/// A chunk the sink fails to take is not dropped: it is offered again, unchanged, before anything newer (the sink
/// must take a repeat idempotently: Redis skips a sequence it holds, clients drop one they have).
/// Invariants: chunks carry sequences 1..N in order, and a sequence always carries the same payload; the concatenation
/// of their text deltas is every text delta read, in order, except a tail the sink still refused at the very end (that
/// tail is in <see cref="RelayResult.Content"/> and <see cref="RelayResult.Parts"/>, which are saved and announced).
/// After each chunk the relay awaits <c>gather</c> (<see cref="ChunkPacing.GatherAsync"/>: at once while the instance
/// keeps up, its linger while it is behind), so what the model says meanwhile coalesces the same way.
/// A chunk goes to the sink with the continuation of its last delta (<see cref="ModelDelta.Continuation"/>, null when
/// the model gives none): where the model's stream resumes after that chunk.
/// </summary>
internal static class ChunkRelay
{
    public static async Task<RelayResult> RunAsync(
        Guid conversationId,
        Guid messageId,
        ChannelReader<ModelDelta> deltas,
        Func<Chunk, byte[]?, Task> sink,
        CancellationToken cancellationToken,
        RelayStart? start = null,
        Func<Task>? gather = null)
    {
        var content = new StringBuilder(start?.Content ?? "");
        var parts = new MessagePartsBuilder();
        foreach (var part in start?.Parts ?? [])
        {
            parts.Add(part.Kind, part.Text);
        }

        var pending = new StringBuilder(); // read, not yet in a chunk
        var pendingKind = ChunkKinds.Text;
        double takenAt = 0;
        byte[]? continuation = null; // the pending piece's last delta's
        var ready = new Queue<(Chunk Chunk, byte[]? Continuation)>(); // numbered, not yet taken by the sink: the head was refused (or not offered yet)
        var sequence = start?.LastSequence ?? 0; // a taken-over answer goes on after what its replay buffer holds
        var count = 0;
        Exception? sinkError = null;

        void Seal()
        {
            if (pending.Length == 0)
            {
                return;
            }

            var text = pending.ToString();
            pending.Clear();
            ready.Enqueue((pendingKind == ChunkKinds.Text
                ? new Chunk(conversationId, messageId, ++sequence, text, takenAt)
                : new Chunk(conversationId, messageId, ++sequence, "", takenAt, pendingKind, text), continuation));
        }

        async Task FlushAsync()
        {
            Seal();
            while (ready.TryPeek(out var next))
            {
                try
                {
                    await sink(next.Chunk, next.Continuation);
                    ready.Dequeue();
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // Includes a timeout surfacing as a cancellation (the backplane's publish while Redis is away): only
                    // the relay's own token stops it; anything else is the sink failing this chunk.
                    sinkError = ex;
                    return;
                }
            }
        }

        while (await deltas.WaitToReadAsync(cancellationToken))
        {
            while (deltas.TryRead(out var delta))
            {
                if (pending.Length > 0 && (delta.Kind != pendingKind || !ChunkKinds.Joins(delta.Kind)))
                {
                    Seal(); // a new kind, or a whole tool part: the pending piece becomes a chunk of its own
                }

                if (pending.Length == 0)
                {
                    pendingKind = delta.Kind;
                    takenAt = delta.TakenAt; // a merged chunk is as old as its oldest delta
                }

                pending.Append(delta.Text);
                continuation = delta.Continuation;
                parts.Add(delta.Kind, delta.Text);
                if (delta.Kind == ChunkKinds.Text)
                {
                    content.Append(delta.Text);
                }

                count++;
            }

            await FlushAsync();
            if (gather is not null)
            {
                await gather(); // the instance is behind (ChunkPacing): the next deltas gather into one chunk meanwhile
            }
        }

        if (ready.Count > 0 || pending.Length > 0)
        {
            // The model is done: up to two more tries (each one offers the refused chunk first, then the rest).
            await FlushAsync();
            await FlushAsync();
        }

        return new RelayResult(content.ToString(), parts.Build(), sequence - ready.Count, count, sinkError);
    }
}

/// <summary>Where a relay starts: after <paramref name="LastSequence"/>, its result beginning with that text and those parts.</summary>
internal sealed record RelayStart(long LastSequence, string Content, IReadOnlyList<MessagePart> Parts);
