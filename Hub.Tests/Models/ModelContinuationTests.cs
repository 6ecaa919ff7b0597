using System.Text;
using ChatStreaming.Worker.Model;

namespace ChatStreaming.Hub.Tests.Models;

/// <summary>What a chunk keeps of where a background response goes on: its id beside the provider's token, and older buffers still resume.</summary>
public sealed class ModelContinuationTests
{
    private static readonly byte[] Token = Encoding.UTF8.GetBytes("""{"responseId":"resp_1","sequenceNumber":42}""");

    [Theory]
    [InlineData("resp_abc123")]
    [InlineData(null)]
    public void TheResponseIdAndTheProviderTokenComeBackAsTheyWereKept(string? responseId)
    {
        var kept = ModelContinuation.Encode(responseId, Token);

        Assert.Equal(responseId, ModelContinuation.ResponseIdOf(kept));
        Assert.Equal(Token, ModelContinuation.TokenOf(kept).ToArray());
    }

    [Fact]
    public void AContinuationKeptBeforeTheIdWasIsTheProviderTokenAlone()
    {
        // Buffers written by an earlier version hold Microsoft.Extensions.AI's token bytes (a JSON text) as they came.
        Assert.Null(ModelContinuation.ResponseIdOf(Token));
        Assert.Equal(Token, ModelContinuation.TokenOf(Token).ToArray());
    }
}
