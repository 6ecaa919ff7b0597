namespace ChatStreaming.Worker.Redis;

/// <summary>An answer's text as far as the replay buffer holds it, up to and including <see cref="LastSequence"/>.</summary>
public sealed record StreamedText(string Content, long LastSequence);
