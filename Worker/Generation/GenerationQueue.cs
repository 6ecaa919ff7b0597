using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Worker.Generation;

/// <summary>
/// The bounded generator channel. Full mode: writers are refused (<see cref="TryEnqueue"/> returns false) so a burst
/// gets a clear "busy" instead of an unbounded queue or a blocked hub call. Which answers this instance owns is
/// <see cref="OwnedAnswers"/>' business, not the queue's.
/// </summary>
public sealed class GenerationQueue(IOptions<ChatStreamingOptions> options)
{
    private readonly Channel<GenerationJob> channel = Channel.CreateBounded<GenerationJob>(
        new BoundedChannelOptions(options.Value.GeneratorQueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = false,
        });

    public int Count => channel.Reader.Count;

    /// <summary>False once the instance is shutting down: no new answers are taken.</summary>
    public bool IsAcceptingWork { get; private set; } = true;

    /// <summary>
    /// True from the moment a shutdown was requested (<see cref="DrainService"/>: answers are still taken during
    /// Chat:DrainDelay) and once the queue is completed.
    /// </summary>
    public bool IsDraining { get; private set; }

    public void BeginDraining() => IsDraining = true;

    public int Capacity => options.Value.GeneratorQueueCapacity;

    public bool IsFull => Count >= Capacity;

    /// <summary>False when the queue is full or completed (TryWrite does not wait, whatever the full mode).</summary>
    public bool TryEnqueue(GenerationJob job) => channel.Writer.TryWrite(job);

    public ChannelReader<GenerationJob> Reader => channel.Reader;

    /// <summary>No more jobs: the readers finish what is queued and stop.</summary>
    public void Complete()
    {
        IsDraining = true;
        IsAcceptingWork = false;
        channel.Writer.TryComplete();
    }
}
