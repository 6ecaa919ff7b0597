using ChatStreaming.Contracts;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Worker.Model;

/// <summary>
/// The models this instance can answer with (<see cref="ModelCatalogLayout"/>): each one's options, its keyed
/// <see cref="IChatClient"/> (function invocation and OpenTelemetry around the provider's client) and its tools.
/// </summary>
internal sealed class ModelCatalog(ModelCatalogLayout layout, IServiceProvider services, IOptionsMonitor<ModelOptions> options, IEnumerable<AIFunction> tools)
{
    // Built once, on first use (after start-up validation): each model's options, client and tools.
    private readonly Lazy<IReadOnlyDictionary<string, CatalogModel>> models = new(() =>
    {
        var toolsByName = tools.GroupBy(t => t.Name).ToDictionary(g => g.Key, g => g.Last());
        return layout.Names.ToDictionary(
            name => name,
            name => new CatalogModel(
                name,
                options.Get(name),
                services.GetRequiredKeyedService<IChatClient>(name),
                [.. options.Get(name).Tools.Select(t => toolsByName[t])]));
    });

    /// <summary>The most earlier messages any model is sent (what a generation reads; each model keeps its own share).</summary>
    public int MaxContextMessages => models.Value.Values.Max(m => m.Options.MaxContextMessages);

    /// <summary>The catalog's spelling of <paramref name="name"/>, or null when there is no such model.</summary>
    public string? Find(string? name) => layout.Find(name);

    /// <summary>The models: the default first, then by name (configuration lists a section's children by key).</summary>
    public IReadOnlyList<ModelInfo> List() =>
    [
        .. layout.Names.OrderBy(n => n == layout.DefaultName ? 0 : 1)
            .Select(n => models.Value[n])
            .Select(m => new ModelInfo(m.Name, m.Options.Provider, m.Name == layout.DefaultName, [.. m.Tools.Select(t => t.Name)])),
    ];

    /// <summary>The model named <paramref name="name"/>, or the default one when it is null or no longer in the catalog.</summary>
    public CatalogModel Get(string? name) => models.Value[layout.Find(name) ?? layout.DefaultName];
}

/// <summary>One model of the catalog, ready to be asked.</summary>
internal sealed record CatalogModel(string Name, ModelOptions Options, IChatClient Client, IReadOnlyList<AIFunction> Tools);
