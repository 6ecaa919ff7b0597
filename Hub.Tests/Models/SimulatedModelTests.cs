using ChatStreaming.Worker;
using ChatStreaming.Worker.Model;
using Microsoft.Extensions.AI;

namespace ChatStreaming.Hub.Tests.Models;

/// <summary>The offline model in process: a continuation after a takeover streams the rest and always says it finished.</summary>
public sealed class SimulatedModelTests
{
    private const string Question = "what does the simulated model say";

    [Theory]
    [InlineData(0)] // nothing streamed yet: asked afresh
    [InlineData(7)]
    [InlineData(20)] // everything but its end: nothing left to say, and still a finish (else the answer would not be whole)
    public async Task AnAnswerContinuedAfterATakeoverStreamsTheRestAndEndsWithAFinish(int streamedTokens)
    {
        using var clock = new CoarseClock(TimeProvider.System);
        var model = new SimulatedChatClient(new SimulatedModelOptions { TokensPerSecond = 0, ResponseTokens = 20 }, clock, TimeProvider.System);
        var tokens = SimulatedChatClient.Tokens(Question, 20).ToList();
        var partial = string.Concat(tokens.Take(streamedTokens));
        var messages = ConversationContext.Continue([new ChatMessage(ChatRole.User, Question)], partial, []);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in model.GetStreamingResponseAsync(messages))
        {
            updates.Add(update);
        }

        Assert.Equal(string.Concat(tokens), partial + string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(ChatFinishReason.Stop, updates.Last(u => u.FinishReason is not null).FinishReason);
        Assert.DoesNotContain(updates.SkipWhile(u => u.FinishReason is null).Skip(1), u => u.Text.Length > 0); // nothing after the finish
    }
}
