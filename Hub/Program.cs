using ChatStreaming.Persistence;
using ChatStreaming.Server;
using ChatStreaming.Worker;

var builder = WebApplication.CreateBuilder(args);
builder.AddChatPersistence();
builder.AddChatWorker();
builder.AddChatHub();

var app = builder.Build();
if (app.ConfigurationError() is { } error)
{
    await Console.Error.WriteLineAsync(error);
    return 2;
}

app.MapChatHub();
await app.RunAsync();
return 0;

/// <summary>The Hub host. Public so tests can start real instances of it.</summary>
public partial class Program;
