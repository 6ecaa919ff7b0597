using System.Text;
using System.Threading.Channels;
using ChatStreaming.Contracts;

namespace ChatStreaming.Worker;

/// <summary>
/// Moves one answer's deltas from the model reader to the sink as numbered chunks.
/// The model reader writes to an unbounded channel and never waits; while the sink is busy, deltas queue up and the
/// next chunk takes all of them at once (coalescing), so a slow Redis slows chunk rate, never the model read.
/// Invariant: chunks carry sequences 1..N in order; the concatenation of their deltas is every delta read, in order.
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
        var pending = new StringBuilder();
        long sequence = 0;
        var count = 0;
        Exception? sinkError = null;
        while (await deltas.WaitToReadAsync(cancellationToken))
        {
            pending.Clear();
            double takenAt = 0;
            while (deltas.TryRead(out var delta))
            {
                if (pending.Length == 0)
                {
                    takenAt = delta.TakenAt; // a merged chunk is as old as its oldest delta
                }

                pending.Append(delta.Text);
                count++;
            }

            if (pending.Length == 0)
            {
                continue;
            }

            content.Append(pending);
            if (sinkError is not null)
            {
                continue; // keep reading so the text is complete for the final save
            }

            try
            {
                await sink(new Chunk(conversationId, messageId, sequence + 1, pending.ToString(), takenAt));
                sequence++;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                sinkError = ex;
            }
        }

        return new RelayResult(content.ToString(), sequence, count, sinkError);
    }
}
