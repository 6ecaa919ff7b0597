using DbUp;
using DbUp.Engine.Output;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ChatStreaming.Persistence;

/// <summary>
/// Applies the embedded SQL migrations (Migrations/*.sql, in name order, each once) before the host starts serving.
/// Several instances may start together: a Postgres advisory lock lets one migrate while the others wait.
/// </summary>
public sealed class DatabaseMigrator(NpgsqlDataSource dataSource, PostgresRetry retry, ILogger<DatabaseMigrator> logger) : IHostedService
{
    private const long MigrationLockKey = 0x43_68_61_74_53_74_72; // "ChatStr"

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await retry.ExecuteAsync(MigrateAsync, cancellationToken);
    }

    private async ValueTask MigrateAsync(CancellationToken cancellationToken)
    {
        try
        {
            EnsureDatabase.For.PostgresqlDatabase(dataSource.ConnectionString, new DbUpLogger(logger));
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateDatabase)
        {
            // another instance created it at the same moment
        }

        // A transaction-scoped lock: released when the transaction ends, however this attempt ends (a session lock
        // would survive on a pooled connection after a failed attempt).
        await using var lockConnection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var lockTransaction = await lockConnection.BeginTransactionAsync(cancellationToken);
        await using (var take = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", lockConnection, lockTransaction))
        {
            take.Parameters.AddWithValue("key", MigrationLockKey);
            await take.ExecuteNonQueryAsync(cancellationToken);
        }

        var result = DeployChanges.To
            .PostgresqlDatabase(dataSource.ConnectionString)
            .WithScriptsEmbeddedInAssembly(typeof(DatabaseMigrator).Assembly)
            .WithTransactionPerScript()
            .LogTo(new DbUpLogger(logger))
            .Build()
            .PerformUpgrade();
        if (!result.Successful)
        {
            throw new InvalidOperationException($"Database migration failed on script '{result.ErrorScript?.Name}': {result.Error.Message}", result.Error);
        }

        await lockTransaction.CommitAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private sealed class DbUpLogger(ILogger logger) : IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) { }

        public void LogDebug(string format, params object[] args) { }

        public void LogInformation(string format, params object[] args)
        {
            if (logger.IsEnabled(LogLevel.Debug)) // DbUp's progress is Debug here: formatted only when someone reads it
            {
                PersistenceLog.Migration(logger, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));
            }
        }

        public void LogWarning(string format, params object[] args) => PersistenceLog.MigrationWarning(logger, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));

        public void LogError(string format, params object[] args) => PersistenceLog.MigrationError(logger, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));

        public void LogError(Exception ex, string format, params object[] args) => PersistenceLog.MigrationError(logger, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));
    }
}
