using System.Reflection;

namespace ChatStreaming.Hub.Tests.Operations;

/// <summary>Operators alert on log event ids and names (docs/operations.md): every event has both, once, and is documented.</summary>
public sealed class LogEventTests
{
    [Fact]
    public void EveryLogEventOfTheServerHasAUniqueIdAndNameAndIsDocumentedInOperations()
    {
        var events = ServerAssemblies().SelectMany(LogEvents).ToList();
        var operations = File.ReadAllText(Path.Combine(BuildOutput.Root, "docs", "operations.md"));

        Assert.True(events.Count >= 15, $"found only {events.Count} [LoggerMessage] methods");
        Assert.All(events, e => Assert.True(e.Id > 0 && !string.IsNullOrEmpty(e.Name), $"{e.Method}: EventId {e.Id}, EventName '{e.Name}'"));
        Assert.Empty(events.GroupBy(e => e.Id).Where(g => g.Count() > 1).Select(g => $"id {g.Key}: {string.Join(", ", g.Select(e => e.Method))}"));
        Assert.Empty(events.GroupBy(e => e.Name).Where(g => g.Count() > 1).Select(g => $"name {g.Key}: {string.Join(", ", g.Select(e => e.Method))}"));
        Assert.Empty(events.Where(e => !operations.Contains($"`{e.Name}`", StringComparison.Ordinal)).Select(e => $"{e.Name} ({e.Id}) is not in docs/operations.md"));
    }

    /// <summary>Worker, Persistence and the Hub host (not referenced by the tests: loaded from its build output).</summary>
    private static IEnumerable<Assembly> ServerAssemblies() =>
    [
        typeof(Worker.WorkerExtensions).Assembly,
        typeof(Persistence.ChatStore).Assembly,
        Assembly.LoadFrom(BuildOutput.Assembly("Hub", "ChatStreaming.Hub.dll")),
    ];

    private static IEnumerable<(int Id, string? Name, string Method)> LogEvents(Assembly assembly)
    {
        Type?[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            types = ex.Types; // types needing a package the tests do not ship; the log classes need none
        }

        foreach (var type in types.OfType<Type>())
        {
            foreach (var method in type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (method.GetCustomAttribute<Microsoft.Extensions.Logging.LoggerMessageAttribute>() is { } attribute)
                {
                    yield return (attribute.EventId, attribute.EventName, $"{type.Name}.{method.Name}");
                }
            }
        }
    }
}
