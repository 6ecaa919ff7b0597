using ChatStreaming.Persistence;
using ChatStreaming.Server;
using ChatStreaming.Worker;

var builder = WebApplication.CreateBuilder(args);
builder.AddChatPersistence();
builder.AddChatWorker();
builder.AddChatHub();

var app = builder.Build();
app.MapChatHub();

return await app.RunChatAsync();

/// <summary>The Hub host. Public so tests can start real instances of it.</summary>
public partial class Program;
