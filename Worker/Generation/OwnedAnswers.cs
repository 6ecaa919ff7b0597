using System.Collections.Concurrent;

namespace ChatStreaming.Worker.Generation;

/// <summary>
/// The one registry of the answers this instance owns: the lease of each is renewed here (<see cref="OrphanSweeper"/>)
/// and no sweep claims it; while one runs, its generation can be cancelled through it (a cancel from any instance).
/// </summary>
public sealed class OwnedAnswers
{
    // Invariant: holds every answer this instance must end, from the moment it is handed to the queue until it has
    // ended (saved, or given up to another instance's sweep); its running generation, if any, is attached to it.
    private readonly ConcurrentDictionary<Guid, Answer> answers = new();

    public IReadOnlyCollection<Guid> Ids => [.. answers.Keys];

    public bool Owns(Guid messageId) => answers.ContainsKey(messageId);

    /// <summary>This instance will end the answer: from now on its lease is renewed here.</summary>
    public void Add(Guid messageId) => answers.TryAdd(messageId, new Answer());

    /// <summary>
    /// The answer starts generating: its generation (linked to <paramref name="stoppingToken"/>) is attached, so a cancel
    /// for it from now on cancels it. The caller disposes the source after <see cref="Release"/>.
    /// </summary>
    public CancellationTokenSource Start(Guid messageId, CancellationToken stoppingToken)
    {
        var generation = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        answers.GetOrAdd(messageId, _ => new Answer()).Generation = generation;
        return generation;
    }

    /// <summary>Cancels the answer's generation if it runs here; false when it is not running here.</summary>
    public bool TryCancel(Guid messageId)
    {
        if (answers.TryGetValue(messageId, out var answer) && answer.Generation is { } generation)
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

    /// <summary>The answer has ended: its lease is no longer renewed here.</summary>
    public void Release(Guid messageId) => answers.TryRemove(messageId, out _);

    private sealed class Answer
    {
        public volatile CancellationTokenSource? Generation;
    }
}
