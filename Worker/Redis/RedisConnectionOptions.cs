using System.ComponentModel.DataAnnotations;

namespace ChatStreaming.Worker.Redis;

public sealed class RedisConnectionOptions
{
    public const string ConnectionStringKey = "ConnectionStrings:Redis";

    [Required(ErrorMessage = $"{ConnectionStringKey} is required (a StackExchange.Redis configuration string, e.g. 127.0.0.1:6379).")]
    public string? ConnectionString { get; set; }
}
