using System.ComponentModel.DataAnnotations;

namespace ChatStreaming.Persistence;

public sealed class PersistenceOptions
{
    public const string ConnectionStringKey = "ConnectionStrings:Postgres";

    [Required(ErrorMessage = $"{ConnectionStringKey} is required (an Npgsql connection string).")]
    public string? ConnectionString { get; set; }
}
