namespace ChatStreaming.Hub.Tests.Infrastructure;

internal static class Executable
{
    private static readonly string[] ExtraDirectories = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin", "/usr/sbin", "/usr/bin"];

    /// <summary>The full path of a program on PATH (or where Debian puts Postgres); fails loudly when it is missing.</summary>
    public static string Find(string name)
    {
        var directories = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(ExtraDirectories);
        return directories.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException($"'{name}' is not installed: the tests need real redis-server and Postgres (run ./test.sh, or see README.md).");
    }
}
