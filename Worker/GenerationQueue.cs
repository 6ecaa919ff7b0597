using System.Collections.Concurrent;
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

    // Invariant: every answer this instance must end (queued or running) until it has ended; its lease is renewed.
    private readonly ConcurrentDictionary<Guid, byte> owned = new();

    public int Count => channel.Reader.Count;

    /// <summary>False once the instance is shutting down: no new answers are taken.</summary>
    public bool IsAcceptingWork { get; private set; } = true;

    /// <summary>
    /// True from the moment a shutdown was requested (<see cref="DrainService"/>: answers are still taken during
    /// Chat:DrainDelay) and once the queue is completed.
    /// </summary>
    public bool IsDraining { get; private set; }

    public void BeginDraining() => IsDraining = true;

    public IReadOnlyCollection<Guid> Owned => [.. owned.Keys];

    public bool Owns(Guid messageId) => owned.ContainsKey(messageId);

    /// <summary>The answer has ended (saved): its lease is no longer renewed here.</summary>
    public void Release(Guid messageId) => owned.TryRemove(messageId, out _);

    public int Capacity => options.Value.GeneratorQueueCapacity;

    public bool IsFull => Count >= Capacity;

    public bool TryEnqueue(GenerationJob job)
    {
        owned[job.AssistantMessageId] = 0;
        if (channel.Writer.TryWrite(job))
        {
            return true;
        }

        owned.TryRemove(job.AssistantMessageId, out _);
        return false;
    }

    public ChannelReader<GenerationJob> Reader => channel.Reader;

    /// <summary>No more jobs: the readers finish what is queued and stop.</summary>
    public void Complete()
    {
        IsDraining = true;
        IsAcceptingWork = false;
        channel.Writer.TryComplete();
    }
}
