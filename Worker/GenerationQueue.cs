using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Worker;

/// <summary>
/// The bounded generator channel. Full mode: writers are refused (<see cref="TryEnqueue"/> returns false) so a burst
/// gets a clear "busy" instead of an unbounded queue or a blocked hub call.
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

    public int Capacity => options.Value.GeneratorQueueCapacity;

    public bool IsFull => Count >= Capacity;

    public bool TryEnqueue(GenerationJob job) => channel.Writer.TryWrite(job);

    public ChannelReader<GenerationJob> Reader => channel.Reader;

    /// <summary>No more jobs: the readers finish what is queued and stop.</summary>
    public void Complete() => channel.Writer.TryComplete();
}
