using System.Text;
using System.Threading.Channels;
using ChatStreaming.Contracts;
using ChatStreaming.Worker.Model;

namespace ChatStreaming.Worker.Generation;

/// <summary>
/// Moves one answer's deltas from the model reader to the sink as numbered chunks.
/// The model reader writes to an unbounded channel and never waits; while the sink is busy, deltas queue up and the
/// next chunk takes all of them at once (coalescing), so a slow Redis slows chunk rate, never the model read.
/// A chunk the sink fails to take is not dropped: it is offered again, unchanged, before anything newer (the sink
/// must take a repeat idempotently: Redis skips a sequence it holds, clients drop one they have).
/// Invariants: chunks carry sequences 1..N in order, and a sequence always carries the same text; the concatenation of
/// their deltas is every delta read, in order, except a tail the sink still refused at the very end (that tail is in
/// <see cref="RelayResult.Content"/>, which is saved and announced).
/// </summary>
public static class ChunkRelay
{
    public static async Task<RelayResult> RunAsync(
        Guid conversationId,
        Guid messageId,
        ChannelReader<ModelDelta> deltas,
        Func<Chunk, Task> sink,
        CancellationToken cancellationToken)
    {
        var content = new StringBuilder();
        var pending = new StringBuilder(); // read, not yet in a chunk
        double takenAt = 0;
        Chunk? unsent = null; // numbered, refused by the sink: offered again first
        long sequence = 0;
        var count = 0;
        Exception? sinkError = null;

        async Task<bool> OfferAsync(Chunk chunk)
        {
            try
            {
                await sink(chunk);
                unsent = null;
                return true;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Includes a timeout surfacing as a cancellation (the backplane's publish while Redis is away): only
                // the relay's own token stops it; anything else is the sink failing this chunk.
                sinkError = ex;
                unsent = chunk;
                return false;
            }
        }

        async Task FlushAsync()
        {
            if (unsent is { } again && !await OfferAsync(again))
            {
                return;
            }

            if (pending.Length > 0)
            {
                var chunk = new Chunk(conversationId, messageId, ++sequence, pending.ToString(), takenAt);
                pending.Clear();
                await OfferAsync(chunk);
            }
        }

        while (await deltas.WaitToReadAsync(cancellationToken))
        {
            while (deltas.TryRead(out var delta))
            {
                if (pending.Length == 0)
                {
                    takenAt = delta.TakenAt; // a merged chunk is as old as its oldest delta
                }

                pending.Append(delta.Text);
                content.Append(delta.Text);
                count++;
            }

            await FlushAsync();
        }

        if (unsent is not null || pending.Length > 0)
        {
            // The model is done: up to two more tries (each one the refused chunk first, then the rest as a new chunk).
            await FlushAsync();
            await FlushAsync();
        }

        var streamed = unsent is null ? sequence : sequence - 1;
        return new RelayResult(content.ToString(), streamed, count, sinkError);
    }
}
