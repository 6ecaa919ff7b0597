using ChatStreaming.Worker.Model;

namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>What the offline model answers: the whole text an answer must end with, however it was chunked.</summary>
internal static class Simulated
{
    /// <summary>The full answer to <paramref name="prompt"/> in <paramref name="tokens"/> tokens.</summary>
    public static string Answer(string prompt, int tokens = ChatCluster.ResponseTokens) =>
        string.Concat(SimulatedChatClient.Tokens(prompt, tokens));

    /// <summary>What the answer starts with after the model called a tool.</summary>
    public const string AfterTool = SimulatedChatClient.AfterTool;
}
