namespace ChatStreaming.Bench.Load;

/// <summary>Tokens like the product's simulated model: a word and a space, 2 to 10 characters.</summary>
internal static class SimulatedText
{
    private static readonly string[] Words = ["stream", "redis", "chunk", "signal", "answer", "token", "replay", "order", "the", "a", "of", "postgres", "latency"];

    public static string Token(Guid streamId, int index, int count) =>
        Words[(int)((uint)(streamId.GetHashCode() ^ (index * 7919)) % Words.Length)] + (index == count ? "." : " ");
}
