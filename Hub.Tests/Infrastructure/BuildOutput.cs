namespace ChatStreaming.Hub.Tests.Infrastructure;

internal static class BuildOutput
{
    /// <summary>The repository root (this test assembly runs from Hub.Tests/bin/CONFIG/TFM).</summary>
    public static string Root => TestDirectory.Parent!.Parent!.Parent!.Parent!.FullName;

    /// <summary>An assembly built by another project of the solution, same configuration and framework as the tests.</summary>
    public static string Assembly(string project, string fileName)
    {
        var path = Path.Combine(Root, project, "bin", TestDirectory.Parent!.Name, TestDirectory.Name, fileName);
        return File.Exists(path) ? path : throw new FileNotFoundException($"build the solution first (dotnet build): {project} not found", path);
    }

    /// <summary>The repository's one version (Directory.Build.props): what the NuGet and npm packages carry.</summary>
    public static string Version =>
        System.Text.RegularExpressions.Regex.Match(File.ReadAllText(Path.Combine(Root, "Directory.Build.props")), "<Version>([^<]+)</Version>").Groups[1].Value;

    /// <summary>The configuration the tests were built in (Release under ./test.sh).</summary>
    public static string Configuration => TestDirectory.Parent!.Name;

    private static DirectoryInfo TestDirectory => new(AppContext.BaseDirectory.TrimEnd('/'));
}
