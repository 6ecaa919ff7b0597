using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ChatStreaming.Persistence;

public static class PersistenceExtensions
{
    /// <summary>Postgres through one pooled <see cref="NpgsqlDataSource"/>, the store, and migrations at start-up.</summary>
    public static IHostApplicationBuilder AddChatPersistence(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<PersistenceOptions>()
            .Configure<IConfiguration>((o, c) => o.ConnectionString = c[PersistenceOptions.ConnectionStringKey])
            .ValidateDataAnnotations()
            .Validate(o => IsValidConnectionString(o.ConnectionString), $"{PersistenceOptions.ConnectionStringKey} is not a valid Npgsql connection string.")
            .ValidateOnStart();

        builder.Services.AddSingleton(sp =>
            new NpgsqlDataSourceBuilder(WithPoolDefaults(sp.GetRequiredService<IOptions<PersistenceOptions>>().Value.ConnectionString!)).Build());
        builder.Services.TryAddSingleton(TimeProvider.System);
        PostgresRetry.Register(builder.Services);
        builder.Services.AddSingleton<PostgresRetry>();
        builder.Services.AddSingleton<ChatStore>();
        builder.Services.AddHostedService<DatabaseMigrator>();
        return builder;
    }

    /// <summary>Statements prepared after <c>Auto Prepare Min Usages</c> runs, at most this many per connection.</summary>
    public const int MaxAutoPrepare = 64;

    /// <summary>
    /// The connection string with two of Npgsql's own performance settings the store relies on, each unless the
    /// connection string sets it itself: <c>Max Auto Prepare</c> (<see cref="MaxAutoPrepare"/>), so the store's
    /// statements — a few dozen constant texts, run with parameters — are parsed once per connection (and planned once
    /// when Postgres settles on a generic plan) instead of on every run; and <c>No Reset On Close</c>, so a pooled connection is not reset (<c>DISCARD ALL</c>,
    /// which would also drop those prepared statements) each time it is reused: the store keeps no session state (no
    /// <c>SET</c>, temporary table or <c>LISTEN</c>; the migrations' lock is a transaction's). Behind a pooler that does
    /// not carry prepared statements (PgBouncer in transaction mode before 1.21), set <c>Max Auto Prepare=0</c>. Public
    /// for the benchmark's Postgres baselines, which use the same settings so that they compare designs, not tuning.
    /// </summary>
    public static string WithPoolDefaults(string connectionString)
    {
        var named = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys
            .Cast<string>().Select(k => k.Replace(" ", "", StringComparison.Ordinal)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!named.Contains(nameof(NpgsqlConnectionStringBuilder.MaxAutoPrepare)))
        {
            builder.MaxAutoPrepare = MaxAutoPrepare;
        }

        if (!named.Contains(nameof(NpgsqlConnectionStringBuilder.NoResetOnClose)))
        {
            builder.NoResetOnClose = true;
        }

        return builder.ConnectionString;
    }

    private static bool IsValidConnectionString(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return true; // reported by [Required]
        }

        try
        {
            _ = new NpgsqlConnectionStringBuilder(value);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
