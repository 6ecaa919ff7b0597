namespace ChatStreaming.Worker.Facade;

/// <summary>What a facade call returns: its value, or the <see cref="Refusal"/> the caller maps to the wire.</summary>
public readonly struct Outcome<T>
{
    private readonly T value;

    internal Outcome(T value, Refusal? refusal)
    {
        this.value = value;
        Refusal = refusal;
    }

    /// <summary>Null when the call succeeded.</summary>
    public Refusal? Refusal { get; }

    /// <summary>The value; reading it from a refusal is a bug of the caller's.</summary>
    public T Value => Refusal is null ? value : throw new InvalidOperationException($"refused: {Refusal.Message}");

    public static implicit operator Outcome<T>(T value) => new(value, null);

    public static implicit operator Outcome<T>(Refusal refusal) => new(default!, refusal);
}

/// <summary>Makes outcomes where the implicit conversion cannot (C# allows none from an interface type).</summary>
public static class Outcome
{
    public static Outcome<T> Ok<T>(T value) => new(value, null);
}
