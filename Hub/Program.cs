using ChatStreaming.Persistence;
using ChatStreaming.Server;
using ChatStreaming.Worker;

// Content root = the app folder, so appsettings*.json are found whatever the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
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
