using ChatStreaming.Contracts;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Worker.Model;

/// <summary>
/// The models this instance can answer with (<see cref="ModelCatalogLayout"/>): each one's options, its keyed
/// <see cref="IChatClient"/> (function invocation and OpenTelemetry around the provider's client) and its tools.
/// </summary>
public sealed class ModelCatalog(ModelCatalogLayout layout, IServiceProvider services, IOptionsMonitor<ModelOptions> options, IEnumerable<AIFunction> tools)
{
    private readonly Dictionary<string, AIFunction> toolsByName = tools.GroupBy(t => t.Name).ToDictionary(g => g.Key, g => g.Last());

    public string DefaultName => layout.DefaultName;

    /// <summary>The most earlier messages any model is sent (what a generation reads; each model keeps its own share).</summary>
    public int MaxContextMessages => layout.Names.Max(n => options.Get(n).MaxContextMessages);

    /// <summary>The catalog's spelling of <paramref name="name"/>, or null when there is no such model.</summary>
    public string? Find(string? name) => layout.Find(name);

    /// <summary>The models: the default first, then by name (configuration lists a section's children by key).</summary>
    public IReadOnlyList<ModelInfo> List() =>
    [
        .. layout.Names.OrderBy(n => n == layout.DefaultName ? 0 : 1)
            .Select(n => new ModelInfo(n, options.Get(n).Provider, n == layout.DefaultName, options.Get(n).Tools.ToList())),
    ];

    /// <summary>The model named <paramref name="name"/>, or the default one when it is null or no longer in the catalog.</summary>
    public CatalogModel Get(string? name)
    {
        var found = layout.Find(name) ?? layout.DefaultName;
        var settings = options.Get(found);
        return new CatalogModel(
            found,
            settings,
            services.GetRequiredKeyedService<IChatClient>(found),
            [.. settings.Tools.Select(t => toolsByName[t])]);
    }
}

/// <summary>One model of the catalog, ready to be asked.</summary>
public sealed record CatalogModel(string Name, ModelOptions Options, IChatClient Client, IReadOnlyList<AIFunction> Tools);
