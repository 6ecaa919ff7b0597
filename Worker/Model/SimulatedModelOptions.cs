using System.ComponentModel.DataAnnotations;

namespace ChatStreaming.Worker.Model;

/// <summary>The <c>Chat:Model:Simulated</c> section: the offline, deterministic model.</summary>
internal sealed class SimulatedModelOptions
{
    public const string SectionName = "Chat:Model:Simulated";

    /// <summary>Tokens streamed per second; 0 streams as fast as possible.</summary>
    [Range(0, 1_000_000, ErrorMessage = "Chat:Model:Simulated:TokensPerSecond must be between 0 and 1000000 (0 = as fast as possible).")]
    public double TokensPerSecond { get; set; } = 50;

    [Range(1, 1_000_000, ErrorMessage = "Chat:Model:Simulated:ResponseTokens must be between 1 and 1000000.")]
    public int ResponseTokens { get; set; } = 60;

    /// <summary>Reasoning tokens streamed (as reasoning, paced like the rest) before the answer; 0 for none.</summary>
    [Range(0, 100_000, ErrorMessage = "Chat:Model:Simulated:ReasoningTokens must be between 0 and 100000.")]
    public int ReasoningTokens { get; set; }
}
