using System.Diagnostics.Metrics;
using System.Threading.Channels;
using ChatStreaming.Worker.Diagnostics;
using ChatStreaming.Worker.Ending;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Worker.Generation;

/// <summary>
/// The bounded generator channel. Full mode: writers are refused (<see cref="TryEnqueue"/> returns false) so a burst
/// gets a clear "busy" instead of an unbounded queue or a blocked hub call. Which answers this instance owns is
/// <see cref="OwnedAnswers"/>' business, not the queue's.
/// </summary>
public sealed class GenerationQueue
{
    private readonly Channel<GenerationJob> channel;
    private readonly DrainSignal drain;
    private volatile bool completed;

    internal GenerationQueue(IOptions<ChatStreamingOptions> options, DrainSignal drain, IMeterFactory meterFactory)
    {
        this.drain = drain;
        Capacity = options.Value.GeneratorQueueCapacity;
        channel = Channel.CreateBounded<GenerationJob>(new BoundedChannelOptions(Capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = false,
        });
        meterFactory.Create(WorkerMetrics.MeterName)
            .CreateObservableGauge("chatstreaming.generator.queue.depth", () => Count, "{job}", "Jobs waiting for a generator slot");
    }

    public int Count => channel.Reader.Count;

    /// <summary>False once the instance is shutting down: no new answers are taken.</summary>
    public bool IsAcceptingWork => !completed;

    /// <summary>
    /// True from the moment a shutdown was requested (<see cref="DrainService"/>: answers are still taken during
    /// Chat:DrainDelay) and once the queue is completed.
    /// </summary>
    public bool IsDraining => completed || drain.IsDraining;

    public int Capacity { get; }

    public bool IsFull => Count >= Capacity;

    /// <summary>False when the queue is full or completed (TryWrite does not wait, whatever the full mode).</summary>
    internal bool TryEnqueue(GenerationJob job) => channel.Writer.TryWrite(job);

    internal ChannelReader<GenerationJob> Reader => channel.Reader;

    /// <summary>No more jobs: the readers finish what is queued and stop.</summary>
    internal void Complete()
    {
        completed = true;
        channel.Writer.TryComplete();
    }
}
