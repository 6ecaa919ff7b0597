namespace ChatStreaming.Worker.Generation;

/// <summary>What a relay wrote: <see cref="Content"/> is every chunk's delta joined, the last chunk has <see cref="LastSequence"/>.</summary>
public sealed record RelayResult(string Content, long LastSequence, int Deltas, Exception? SinkError);
