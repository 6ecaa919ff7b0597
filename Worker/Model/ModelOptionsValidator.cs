using Microsoft.Extensions.Options;

namespace ChatStreaming.Worker.Model;

/// <summary>The keys each provider needs, checked at start-up.</summary>
internal sealed class ModelOptionsValidator : IValidateOptions<ModelOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelOptions options)
    {
        var failures = new List<string>();
        switch (options.Provider)
        {
            case ModelOptions.OpenAIProvider:
                if (string.IsNullOrWhiteSpace(options.ApiKey))
                {
                    failures.Add("Chat:Model:ApiKey is required when Chat:Model:Provider is OpenAI.");
                }

                if (string.IsNullOrWhiteSpace(options.Name))
                {
                    failures.Add("Chat:Model:Name is required when Chat:Model:Provider is OpenAI.");
                }

                if (options.Endpoint is { IsAbsoluteUri: false })
                {
                    failures.Add("Chat:Model:Endpoint must be an absolute URL.");
                }

                break;
            case ModelOptions.AzureOpenAIProvider:
                if (options.Endpoint is not { IsAbsoluteUri: true })
                {
                    failures.Add("Chat:Model:Endpoint is required (an absolute URL) when Chat:Model:Provider is AzureOpenAI.");
                }

                if (string.IsNullOrWhiteSpace(options.ApiKey))
                {
                    failures.Add("Chat:Model:ApiKey is required when Chat:Model:Provider is AzureOpenAI.");
                }

                if (string.IsNullOrWhiteSpace(options.Deployment))
                {
                    failures.Add("Chat:Model:Deployment is required when Chat:Model:Provider is AzureOpenAI.");
                }

                if (options.ApiVersion is { Length: > 0 } version && ModelClients.AzureServiceVersion(version) is null)
                {
                    failures.Add($"Chat:Model:ApiVersion '{version}' is not an API version this SDK knows (e.g. {ModelClients.KnownAzureVersions}).");
                }

                break;
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
