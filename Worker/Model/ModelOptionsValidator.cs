using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Worker.Model;

/// <summary>
/// Checks each catalog entry at start-up: its ranges, the keys its provider needs and that its tools exist. Messages
/// name the entry's own keys (<c>Chat:Models:{name}:ApiKey</c>, or <c>Chat:Model:ApiKey</c> for a catalog of one).
/// </summary>
internal sealed class ModelOptionsValidator(ModelCatalogLayout layout, IEnumerable<AIFunction> tools) : IValidateOptions<ModelOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelOptions options)
    {
        if (name is null || layout.Find(name) is null)
        {
            return ValidateOptionsResult.Skip;
        }

        var section = layout.SectionOf(name);
        var failures = new List<string>();
        Annotations(options, failures);
        Annotations(options.Simulated, failures);
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

        if (options.Api == ModelOptions.ResponsesApi && options.Provider == ModelOptions.SimulatedProvider)
        {
            failures.Add("Chat:Model:Api Responses needs Chat:Model:Provider OpenAI or AzureOpenAI (the offline model resumes by itself).");
        }

        var known = tools.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var tool in options.Tools.Where(t => !known.Contains(t)))
        {
            failures.Add($"Chat:Model:Tools names '{tool}', which is not a registered tool (registered: {string.Join(", ", known.Order())}).");
        }

        return failures.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(failures.Select(f => f.Replace("Chat:Model:", section + ":", StringComparison.Ordinal)));
    }

    private static void Annotations(object options, List<string> failures)
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            failures.AddRange(results.Select(r => r.ErrorMessage ?? "invalid value"));
        }
    }
}
