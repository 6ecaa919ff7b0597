using ChatStreaming.Persistence;
using ChatStreaming.Server;
using ChatStreaming.Server.ApiDocs;
using ChatStreaming.Server.Auth;
using ChatStreaming.Server.Chat;
using ChatStreaming.Server.Frontend;
using ChatStreaming.Server.Health;
using ChatStreaming.Server.Security;
using ChatStreaming.Server.Telemetry;
using ChatStreaming.Worker;

// Content root = the app folder, so appsettings*.json are found whatever the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddChatPersistence();
builder.AddChatWorker();
builder.AddChatAuth();
builder.AddChatOrigins();
builder.AddChatRateLimits();
builder.AddChatHealthChecks();
builder.AddChatTelemetry();
builder.AddChatHub();
builder.AddChatApiDocs();
builder.AddChatFrontend();

var app = builder.Build();
if (app.ConfigurationError() is { } error)
{
    await Console.Error.WriteLineAsync(error);
    return 2;
}

app.UseChatFrontend();
app.UseChatOrigins();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();
app.MapChatHub();
app.MapDevTokens();
app.MapConversations();
app.MapChatHealthChecks();
app.MapChatTelemetry();
app.MapChatApiDocs();
app.MapChatFrontend();
return await app.RunToExitCodeAsync();

/// <summary>The Hub host. Public so tests can start real instances of it.</summary>
public partial class Program;
