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
            new NpgsqlDataSourceBuilder(sp.GetRequiredService<IOptions<PersistenceOptions>>().Value.ConnectionString).Build());
        builder.Services.TryAddSingleton(TimeProvider.System);
        PostgresRetry.Register(builder.Services);
        builder.Services.AddSingleton<PostgresRetry>();
        builder.Services.AddSingleton<ChatStore>();
        builder.Services.AddHostedService<DatabaseMigrator>();
        return builder;
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
