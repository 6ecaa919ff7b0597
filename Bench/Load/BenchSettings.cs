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
    IReadOnlyList<string> Pipelines,
    string? RedisCluster = null,
    string? Samples = null,
    int Rounds = 1,
    int RampRounds = 1)
{
    /// <summary>
    /// The connection string of a database of its own beside the run's (<c>{database}_{name}</c>): every pipeline that
    /// uses Postgres gets one, so pipelines that are all up at once count only their own statements, and one deployment's
    /// sweeper never sees another's answers.
    /// </summary>
    public string PostgresDatabase(string name)
    {
        // Every pipeline's servers stay up for the whole run: the pools of the ones not running close their idle
        // connections within seconds (not Npgsql's default 5 minutes), so their backends do not hold the server's
        // connection slots the running pipeline needs.
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(Postgres) { ConnectionIdleLifetime = 10 };
        builder.Database = $"{builder.Database}_{name.Replace('-', '_')}";
        return builder.ConnectionString;
    }

    /// <summary>The database a Postgres connection string names (the run's, or a pipeline's own).</summary>
    public static string DatabaseOf(string connectionString) => new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Database!;

    /// <summary>The checkout this program was built in.</summary>
    public static string RepositoryRoot => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Parent!.Parent!.Parent!.FullName;

    /// <summary>The solution's build output of a project, same configuration and framework as this program.</summary>
    public static string Assembly(string project, string fileName)
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var path = Path.Combine(RepositoryRoot, project, "bin", here.Parent!.Name, here.Name, fileName);
        return File.Exists(path) ? path : throw new FileNotFoundException($"build the solution first: {path}");
    }
}
