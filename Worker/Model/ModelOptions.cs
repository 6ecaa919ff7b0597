using System.ComponentModel.DataAnnotations;

namespace ChatStreaming.Worker.Model;

/// <summary>
/// How one model of the catalog is asked. The <c>Chat:Model</c> section alone is a catalog of one; with
/// <c>Chat:Models:{name}</c> sections, each of them starts from <c>Chat:Model</c>'s values and sets its own (its
/// <see cref="Tools"/> are its own, not added to <c>Chat:Model</c>'s). Messages name <c>Chat:Model:*</c>; the
/// validator names the entry's own section.
/// </summary>
internal sealed class ModelOptions
{
    public const string SectionName = "Chat:Model";
    public const string CatalogSectionName = "Chat:Models";
    public const string SimulatedProvider = "Simulated";
    public const string OpenAIProvider = "OpenAI";
    public const string AzureOpenAIProvider = "AzureOpenAI";
    public const string ChatCompletionsApi = "ChatCompletions";
    public const string ResponsesApi = "Responses";

    [Required(ErrorMessage = "Chat:Model:Provider is required.")]
    [AllowedValues(SimulatedProvider, OpenAIProvider, AzureOpenAIProvider, ErrorMessage = "Chat:Model:Provider must be one of: Simulated, OpenAI, AzureOpenAI.")]
    public string Provider { get; set; } = SimulatedProvider;

    /// <summary>
    /// Which API of an OpenAI or Azure OpenAI model is asked: chat completions (any compatible server), or the Responses
    /// API in background mode, whose stream another instance can resume after the provider's sequence number when the
    /// one generating an answer stops (docs/reliability.md).
    /// </summary>
    [AllowedValues(ChatCompletionsApi, ResponsesApi, ErrorMessage = "Chat:Model:Api must be one of: ChatCompletions, Responses.")]
    public string Api { get; set; } = ChatCompletionsApi;

    /// <summary>Whether answers run as background responses that a successor can resume (the Responses API).</summary>
    public bool Resumable => Api == ResponsesApi; // the validator allows it for OpenAI and Azure OpenAI only

    /// <summary>OpenAI: optional base URL of any OpenAI-compatible server (default the public API). Azure: the resource URL.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>From configuration, environment or user secrets only; never logged, stored or sent to clients.</summary>
    public string? ApiKey { get; set; }

    /// <summary>OpenAI model name.</summary>
    public string Name { get; set; } = "gpt-4o-mini";

    /// <summary>Azure OpenAI deployment name.</summary>
    public string? Deployment { get; set; }

    /// <summary>Azure OpenAI API version such as 2024-10-21; the SDK's newest when empty.</summary>
    public string? ApiVersion { get; set; }

    public string SystemPrompt { get; set; } = DefaultSystemPrompt;

    public const string DefaultSystemPrompt = "You are a helpful assistant.";

    /// <summary>Earlier messages sent as context, newest kept first, at most this many characters in all...</summary>
    [Range(0, 10_000_000, ErrorMessage = "Chat:Model:MaxContextCharacters must be between 0 and 10000000.")]
    public int MaxContextCharacters { get; set; } = 24_000;

    /// <summary>...and at most this many messages.</summary>
    [Range(0, 10_000, ErrorMessage = "Chat:Model:MaxContextMessages must be between 0 and 10000.")]
    public int MaxContextMessages { get; set; } = 20;

    [Range(1, 1_000_000, ErrorMessage = "Chat:Model:MaxOutputTokens must be between 1 and 1000000.")]
    public int MaxOutputTokens { get; set; } = 1_024;

    [Range(0.0, 2.0, ErrorMessage = "Chat:Model:Temperature must be between 0 and 2.")]
    public float? Temperature { get; set; }

    /// <summary>No delta for this long ends the answer: interrupted after some text, failed before any.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00", ErrorMessage = "Chat:Model:StallTimeout must be a time span between 00:00:00.100 and 01:00:00.")]
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Retries of a 429 or 5xx answer before the first delta (Retry-After honoured).</summary>
    [Range(0, 10, ErrorMessage = "Chat:Model:MaxRetries must be between 0 and 10.")]
    public int MaxRetries { get; set; } = 3;

    /// <summary>Names of the tools (AIFunctions registered in DI) this model is offered; none by default.</summary>
    public List<string> Tools { get; set; } = [];

    /// <summary>The offline model's settings, when <see cref="Provider"/> is Simulated.</summary>
    public SimulatedModelOptions Simulated { get; set; } = new();
}
