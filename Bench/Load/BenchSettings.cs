namespace ChatStreaming.Bench.Load;

/// <summary>Everything a run needs to know.</summary>
internal sealed record BenchSettings(
    int Streams,
    double TokensPerSecond,
    int Tokens,
    TimeSpan PollInterval,
    string Redis,
    string Postgres,
    string? PostgresDataDirectory,
    TimeSpan ReplayTtl,
    IReadOnlyList<int> Ramp,
    int RampTokens,
    bool Quick,
    IReadOnlyList<string> Pipelines)
{
    /// <summary>The solution's build output of a project, same configuration and framework as this program.</summary>
    public static string Assembly(string project, string fileName)
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var root = here.Parent!.Parent!.Parent!.Parent!.FullName;
        var path = Path.Combine(root, project, "bin", here.Parent.Name, here.Name, fileName);
        return File.Exists(path) ? path : throw new FileNotFoundException($"build the solution first: {path}");
    }
}
