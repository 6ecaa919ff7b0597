using ChatStreaming.Contracts;

namespace ChatStreaming.Worker.Model;

/// <summary>
/// A piece taken from the model, with the Unix-epoch milliseconds when the worker took it: answer text, reasoning text,
/// or a whole tool call or result as JSON (<see cref="Kind"/> is one of <see cref="ChunkKinds"/>). A resumable model
/// (<see cref="ModelOptions.Resumable"/>) gives each delta its <see cref="Continuation"/>: where the provider's stream
/// resumes after it, with its background response's id (<see cref="ModelContinuation"/>).
/// </summary>
internal readonly record struct ModelDelta(string Text, double TakenAt, string Kind = ChunkKinds.Text, byte[]? Continuation = null);
