using Microsoft.Extensions.Configuration;

namespace ChatStreaming.Worker.Model;

/// <summary>
/// The catalog's names, read from configuration once at start-up (keyed services are registered per name):
/// the children of <c>Chat:Models</c>, or, without any, one model from <c>Chat:Model</c> named by
/// <c>Chat:DefaultModel</c> (default "default"), so a deployment configured before the catalog keeps working.
/// </summary>
internal sealed record ModelCatalogLayout(IReadOnlyList<string> Names, string DefaultName, bool IsSingleSection)
{
    public const string DefaultModelKey = "Chat:DefaultModel";
    public const string SingleModelName = "default";

    public static ModelCatalogLayout Read(IConfiguration configuration)
    {
        var names = configuration.GetSection(ModelOptions.CatalogSectionName).GetChildren()
            .Where(section => section.Exists()).Select(section => section.Key).ToList();
        var configuredDefault = configuration[DefaultModelKey];
        if (names.Count == 0)
        {
            var name = string.IsNullOrWhiteSpace(configuredDefault) ? SingleModelName : configuredDefault.Trim();
            return new ModelCatalogLayout([name], name, IsSingleSection: true);
        }

        // Configuration keys are case-insensitive; so are model names (the catalog's spelling is the one returned).
        var defaultName = string.IsNullOrWhiteSpace(configuredDefault)
            ? names[0]
            : names.FirstOrDefault(n => string.Equals(n, configuredDefault.Trim(), StringComparison.OrdinalIgnoreCase)) ?? configuredDefault.Trim();
        return new ModelCatalogLayout(names, defaultName, IsSingleSection: false);
    }

    /// <summary>The configuration section an entry's own keys are in (what error messages name).</summary>
    public string SectionOf(string name) => IsSingleSection ? ModelOptions.SectionName : $"{ModelOptions.CatalogSectionName}:{name}";

    /// <summary>The catalog's spelling of <paramref name="name"/>, or null when the catalog has no such model.</summary>
    public string? Find(string? name) =>
        name is null ? null : Names.FirstOrDefault(n => string.Equals(n, name.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>Binds an entry: <c>Chat:Model</c>'s values, then (in a catalog) the entry's own, with its own tools.</summary>
    public void Bind(IConfiguration configuration, string name, ModelOptions options)
    {
        configuration.GetSection(ModelOptions.SectionName).Bind(options);
        if (!IsSingleSection)
        {
            options.Tools.Clear();
            configuration.GetSection(SectionOf(name)).Bind(options);
        }
    }
}
