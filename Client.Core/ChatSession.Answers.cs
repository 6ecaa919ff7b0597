using ChatStreaming.Contracts;
using Microsoft.AspNetCore.SignalR.Client;

namespace ChatStreaming.Client.Core;

/// <summary>
/// Answer state: chunks taken in sequence (duplicates dropped, gaps filled from the replay buffer), ends applied with the
/// saved text, snapshots applied after a join or reconnect, and the watchdog that reopens a conversation gone quiet.
/// </summary>
public sealed partial class ChatSession
{
    /// <summary>What this client has of an answer, or null.</summary>
    public AnswerState? Find(Guid messageId)
    {
        lock (answers)
        {
            return answers.GetValueOrDefault(messageId);
        }
    }

    /// <summary>
    /// The answers of the open conversation still streaming; not one gone quiet on a branch the conversation does not
    /// show (its end went unheard, and no rejoin brings it until its branch is shown again).
    /// </summary>
    public IReadOnlyList<Guid> Streaming()
    {
        lock (answers)
        {
            return [.. answers.Values.Where(a => a.Finished is null && !a.OffBranch && a.ConversationId == ConversationId).Select(a => a.MessageId)];
        }
    }

    private AnswerState Answer(Guid messageId, Guid conversationId)
    {
        lock (answers)
        {
            if (!answers.TryGetValue(messageId, out var answer))
            {
                answers[messageId] = answer = new AnswerState(messageId, conversationId);
            }

            return answer;
        }
    }

    internal async Task ApplyChunkAsync(Chunk chunk)
    {
        ChunkReceived?.Invoke(chunk);
        var answer = Answer(chunk.MessageId, chunk.ConversationId);
        if (answer.Finished is not null || chunk.Sequence <= answer.LastSequence)
        {
            return; // finished, or a duplicate
        }

        if (chunk.Sequence > answer.LastSequence + 1)
        {
            await FillGapAsync(answer);
        }

        if (chunk.Sequence == answer.LastSequence + 1)
        {
            Take(answer, chunk);
        }
    }

    private async Task FillGapAsync(AnswerState answer)
    {
        try
        {
            // GetChunks returns at most Chat:MaxChunksPerRead chunks: page until a read brings nothing new.
            while (true)
            {
                var missed = await Connection.AsChatHub().GetChunks(answer.MessageId, answer.LastSequence);
                var taken = 0;
                foreach (var chunk in missed.TakeWhile(c => c.Sequence == answer.LastSequence + 1))
                {
                    Take(answer, chunk);
                    taken++;
                }

                if (missed.Count == 0 || taken < missed.Count)
                {
                    break;
                }
            }
        }
        catch (Microsoft.AspNetCore.SignalR.HubException)
        {
            // Replay unavailable: GenerationFinished brings the saved text.
        }
    }

    internal Task ApplyFinished(GenerationFinished finished)
    {
        ApplyFinishedCore(Answer(finished.MessageId, finished.ConversationId), finished);
        return Task.CompletedTask;
    }

    private void ApplyFinishedCore(AnswerState answer, GenerationFinished finished)
    {
        if (answer.Finished is not null)
        {
            return;
        }

        // The saved text is the truth: print what this client had not shown yet.
        var shown = answer.Text.ToString();
        if (finished.Content.StartsWith(shown, StringComparison.Ordinal) && finished.Content.Length > shown.Length)
        {
            Append(answer, finished.Content[shown.Length..], finished.LastSequence);
        }

        else if (!finished.Content.StartsWith(shown, StringComparison.Ordinal))
        {
            answer.Text.Clear().Append(finished.Content); // what was shown was wrong: the saved text replaces it
        }

        if (finished.Parts is { } parts)
        {
            answer.PartsBuilder.Reset(parts); // the saved parts are the truth too
        }

        answer.LastSequence = Math.Max(answer.LastSequence, finished.LastSequence); // its last chunks may be parts, not text
        answer.Finished = finished;
        Finished?.Invoke(answer);
    }

    /// <summary>The next chunk in sequence: text is appended (and announced as text); any other kind is a part.</summary>
    private void Take(AnswerState answer, Chunk chunk)
    {
        answer.OffBranch = false; // heard again: it streams after all
        if (chunk.Kind == ChunkKinds.Reasoning)
        {
            answer.ReasoningFrom ??= chunk.EmittedAt;
        }
        else if (answer.ReasoningFrom is { } from && answer.ThoughtFor is null)
        {
            answer.ThoughtFor = TimeSpan.FromMilliseconds(Math.Max(0, chunk.EmittedAt - from));
        }

        answer.PartsBuilder.Add(chunk);
        if (chunk.Kind == ChunkKinds.Text)
        {
            Append(answer, chunk.Delta, chunk.Sequence);
            return;
        }

        answer.LastHeard = DateTimeOffset.UtcNow;
        answer.LastSequence = chunk.Sequence;
        PartReceived?.Invoke(answer, chunk);
    }

    private void Append(AnswerState answer, string text, long sequence)
    {
        answer.LastHeard = DateTimeOffset.UtcNow;
        answer.Text.Append(text);
        answer.LastSequence = sequence;
        TextAppended?.Invoke(answer, text);
    }

    /// <summary>Messages read from the server: answers that ended get their end, streaming ones the text so far.</summary>
    internal void ApplySnapshot(IEnumerable<Message> messages)
    {
        foreach (var message in messages.Where(m => m.Role == MessageRole.Assistant))
        {
            var known = Find(message.Id) is not null;
            var answer = Answer(message.Id, message.ConversationId);
            answer.OffBranch = false;
            if (message.Status != MessageStatus.Streaming)
            {
                var finished = new GenerationFinished(
                    message.ConversationId, message.Id, message.Status, message.LastSequence ?? 0, message.Content, message.Error, message.FinishReason, message.Usage,
                    message.Model, message.Parts);
                if (known)
                {
                    ApplyFinishedCore(answer, finished); // it ended while this client was away: show the rest
                }
                else if (answer.Finished is null)
                {
                    answer.Text.Append(message.Content); // history: known silently
                    answer.PartsBuilder.Reset(message.Parts ?? []);
                    answer.LastSequence = finished.LastSequence;
                    answer.Finished = finished;
                }
            }
            else if (answer.Finished is null // a snapshot read before the end was heard is older than it
                && (message.LastSequence ?? 0) > answer.LastSequence && message.Content.StartsWith(answer.Text.ToString(), StringComparison.Ordinal))
            {
                Append(answer, message.Content[answer.Text.Length..], message.LastSequence ?? 0);
                answer.PartsBuilder.Reset(message.Parts ?? []);
            }
        }
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(QuietLimit / 2);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var quiet = DateTimeOffset.UtcNow - QuietLimit;
                AnswerState[] silent;
                lock (answers)
                {
                    silent = [.. answers.Values.Where(a => a.Finished is null && !a.OffBranch && a.ConversationId == ConversationId && a.LastHeard < quiet)];
                }

                if (silent.Length > 0 && ConversationId is { } id && Connection.State == HubConnectionState.Connected)
                {
                    foreach (var answer in silent)
                    {
                        answer.LastHeard = DateTimeOffset.UtcNow;
                    }

                    try
                    {
                        var snapshot = await RejoinAsync(id, cancellationToken);
                        foreach (var answer in silent.Where(a => snapshot.Messages.All(m => m.Id != a.MessageId)))
                        {
                            // Not on the branch the conversation shows (its question was edited, or another answer
                            // chosen): no rejoin brings its end, so it is not watched until a snapshot holds it again.
                            answer.OffBranch = true;
                        }
                    }
                    catch (Exception ex) when (IsRefusedOrDisconnected(ex) && !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
                    {
                        // the connection is failing, reconnecting or closed: try again at the next tick
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
