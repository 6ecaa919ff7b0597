using System.ClientModel;
using System.ClientModel.Primitives;
using Azure.AI.OpenAI;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;

namespace ChatStreaming.Worker.Model;

/// <summary>
/// Builds a catalog model's provider <see cref="IChatClient"/> (the catalog wraps it in function invocation and
/// OpenTelemetry). The SDKs' own retries are off: the worker retries 429/5xx itself, only before the first delta,
/// honouring Retry-After.
/// </summary>
internal static class ModelClients
{
    public static IChatClient Create(IServiceProvider services, ModelOptions options)
    {
        return options.Provider switch
        {
            ModelOptions.OpenAIProvider => For(
                new OpenAIClient(new ApiKeyCredential(options.ApiKey!), new OpenAIClientOptions { Endpoint = options.Endpoint, RetryPolicy = NoRetries }),
                options.Name,
                options.Api),
            ModelOptions.AzureOpenAIProvider => For(
                new AzureOpenAIClient(options.Endpoint!, new ApiKeyCredential(options.ApiKey!), AzureOptions(options.ApiVersion)),
                options.Deployment!,
                options.Api),
            _ => new SimulatedChatClient(
                options.Simulated, services.GetRequiredService<CoarseClock>(), services.GetRequiredService<TimeProvider>()),
        };
    }

    // The Responses client is marked for evaluation (OPENAI001) in this SDK; background mode and resuming its stream
    // are what Chat:Model:Api = Responses is for (docs/reliability.md).
#pragma warning disable OPENAI001
    private static IChatClient For(OpenAIClient client, string model, string api) => api == ModelOptions.ResponsesApi
        ? client.GetResponsesClient().AsIChatClient(model)
        : client.GetChatClient(model).AsIChatClient();
#pragma warning restore OPENAI001

    private static readonly ClientRetryPolicy NoRetries = new(maxRetries: 0);

    private static AzureOpenAIClientOptions AzureOptions(string? apiVersion)
    {
        var options = apiVersion is { Length: > 0 } && AzureServiceVersion(apiVersion) is { } version
            ? new AzureOpenAIClientOptions(version)
            : new AzureOpenAIClientOptions();
        options.RetryPolicy = NoRetries;
        return options;
    }

    /// <summary>The SDK's enum value for an API version string such as <c>2024-10-21</c> or <c>2025-04-01-preview</c>.</summary>
    public static AzureOpenAIClientOptions.ServiceVersion? AzureServiceVersion(string apiVersion)
    {
        foreach (var version in Enum.GetValues<AzureOpenAIClientOptions.ServiceVersion>())
        {
            if (string.Equals(WireName(version), apiVersion, StringComparison.OrdinalIgnoreCase))
            {
                return version;
            }
        }

        return null;
    }

    public static string KnownAzureVersions =>
        string.Join(", ", Enum.GetValues<AzureOpenAIClientOptions.ServiceVersion>().Select(WireName));

    // V2024_10_21 -> 2024-10-21; V2025_04_01_Preview -> 2025-04-01-preview
    private static string WireName(AzureOpenAIClientOptions.ServiceVersion version) =>
        version.ToString().TrimStart('V').Replace('_', '-').ToLowerInvariant();
}
