namespace ChatStreaming.Worker.Model;

/// <summary>Text taken from the model, with the Unix-epoch milliseconds when the worker took it.</summary>
public readonly record struct ModelDelta(string Text, double TakenAt);
