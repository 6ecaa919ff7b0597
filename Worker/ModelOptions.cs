using System.ComponentModel.DataAnnotations;

namespace ChatStreaming.Worker;

/// <summary>The <c>Chat:Model</c> section: which model answers.</summary>
public sealed class ModelOptions
{
    public const string SectionName = "Chat:Model";
    public const string SimulatedProvider = "Simulated";

    [Required(ErrorMessage = "Chat:Model:Provider is required.")]
    [AllowedValues(SimulatedProvider, ErrorMessage = "Chat:Model:Provider must be one of: Simulated.")]
    public string Provider { get; set; } = SimulatedProvider;
}
