using System.Collections.Concurrent;
using ChatStreaming.Worker.Redis;

namespace ChatStreaming.Worker.Ending;

/// <summary>
/// The one registry of the answers this instance owns: their leases and state are renewed from it
/// (<see cref="LeaseRenewer"/>), no sweep here claims them, and while one runs its generation can be cancelled through
/// it (a cancel from any instance, or its end decided elsewhere).
/// </summary>
internal sealed class OwnedAnswers
{
    // Invariant: holds every answer this instance must end, from the moment it is handed to the queue until it has
    // ended (saved, or given up to another instance's sweep); its running generation, if any, is attached to it.
    // An answer whose end is being decided and saved here is marked ending: its lease is no longer renewed.
    private readonly ConcurrentDictionary<Guid, Entry> answers = new();

    /// <summary>The answers whose lease must be renewed: owned here and not ending.</summary>
    public IReadOnlyCollection<OwnedAnswer> Renewable => [.. answers.Values.Where(e => !e.Ending).Select(e => e.Answer)];

    /// <summary>The answers generating here now (not ending): the ones a cancel flag can still stop.</summary>
    public IReadOnlyCollection<OwnedAnswer> Running => [.. answers.Values.Where(e => e.Generation is not null && !e.Ending).Select(e => e.Answer)];

    public bool Owns(Guid messageId) => answers.ContainsKey(messageId);

    /// <summary>This instance will end the answer: from now on its lease is renewed here.</summary>
    public void Add(OwnedAnswer answer) => answers.TryAdd(answer.MessageId, new Entry(answer));

    /// <summary>
    /// The answer starts generating: its generation (linked to <paramref name="stoppingToken"/>) is attached, so a cancel
    /// for it from now on cancels it. The caller disposes the source after <see cref="Release"/>.
    /// </summary>
    public CancellationTokenSource Start(OwnedAnswer answer, CancellationToken stoppingToken)
    {
        var generation = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        answers.GetOrAdd(answer.MessageId, _ => new Entry(answer)).Generation = generation;
        return generation;
    }

    /// <summary>
    /// Cancels the answer's generation if it runs here; false when it is not running here, or is ending here: its end is
    /// being decided and saved (a cancel flag set before that still wins, in the end's script), and a renewal that
    /// finds it ended found this instance's own end, not another's.
    /// </summary>
    public bool TryCancel(Guid messageId)
    {
        if (answers.TryGetValue(messageId, out var entry) && !entry.Ending && entry.Generation is { } generation)
        {
            try
            {
                generation.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // it ended meanwhile
            }

            return true;
        }

        return false;
    }

    /// <summary>Its end is being decided and saved here: its lease is not renewed any more (the end removes it).</summary>
    public void MarkEnding(Guid messageId)
    {
        if (answers.TryGetValue(messageId, out var entry))
        {
            entry.Ending = true;
        }
    }

    /// <summary>The answer has ended: it is no longer this instance's.</summary>
    public void Release(Guid messageId) => answers.TryRemove(messageId, out _);

    private sealed class Entry(OwnedAnswer answer)
    {
        public OwnedAnswer Answer { get; } = answer;

        public volatile CancellationTokenSource? Generation;

        public volatile bool Ending;
    }
}
