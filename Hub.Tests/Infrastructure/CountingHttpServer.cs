using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>A loopback HTTP server that answers every request with a 1×1 PNG and records its path: "was it fetched?".</summary>
internal sealed class CountingHttpServer : IAsyncDisposable
{
    private static readonly byte[] Pixel = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");
    private readonly WebApplication app;
    private readonly ConcurrentQueue<string> requests = new();

    private CountingHttpServer(WebApplication app)
    {
        this.app = app;
        app.Run(async context =>
        {
            requests.Enqueue(context.Request.Path + context.Request.QueryString);
            context.Response.ContentType = "image/png";
            await context.Response.Body.WriteAsync(Pixel);
        });
    }

    public string Url => app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    public IReadOnlyList<string> Requests => [.. requests];

    public static async Task<CountingHttpServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var server = new CountingHttpServer(builder.Build());
        await server.app.StartAsync();
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
