using ChatStreaming.Contracts;
using ChatStreaming.Server.Security;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Server.Frontend;

/// <summary>
/// The two browser clients the hub serves: the JavaScript page at <c>/</c> and the Blazor app at <c>/web/</c>, each
/// with a strict Content-Security-Policy: scripts, styles and connections from the page's origin only (and the
/// WebAssembly the Blazor app compiles), no inline script or style, images from the origin, <c>data:</c> and
/// <c>Chat:Clients:ImageSources</c> only. A prompt-injected answer cannot make the page fetch an address of its choosing
/// (an image URL carrying the user's history). The apps read <c>GET /api/client-settings</c> to know which images
/// they may show; any other remote image is shown as a link.
/// </summary>
internal static class FrontendExtensions
{
    public static IHostApplicationBuilder AddChatFrontend(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ChatClientOptions>().BindConfiguration(ChatClientOptions.SectionName)
            .Validate(o => o.ImageSources.All(OriginExtensions.IsOrigin), "Chat:Clients:ImageSources must list origins like https://images.example.com (scheme, host, optional port; no path).")
            .ValidateOnStart();
        return builder;
    }

    public static WebApplication UseChatFrontend(this WebApplication app)
    {
        var policy = ContentSecurityPolicy(app.Services.GetRequiredService<IOptions<ChatClientOptions>>().Value);
        app.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                // The pages (and the Blazor app's deep links); not the API reference, which loads its own scripts.
                if (context.Response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true
                    && !context.Request.Path.StartsWithSegments("/scalar"))
                {
                    context.Response.Headers.ContentSecurityPolicy = policy;
                }

                return Task.CompletedTask;
            });
            return next(context);
        });
        app.UseDefaultFiles(); // "/" serves the browser chat page (wwwroot/index.html)
        app.UseBlazorFrameworkFiles("/web"); // "/web/" serves the Blazor WebAssembly app (Web/)
        app.UseStaticFiles();
        return app;
    }

    /// <summary>The Blazor app's own routes (deep links under /web/) load its page; the apps' settings.</summary>
    public static WebApplication MapChatFrontend(this WebApplication app)
    {
        app.MapFallbackToFile("/web/{*path:nonfile}", "web/index.html");
        app.MapGet(ChatHubPaths.ClientSettings, (IOptions<ChatClientOptions> options) => new ClientSettings(options.Value.ImageSources))
            .AllowAnonymous()
            .WithName("GetClientSettings")
            .WithSummary("What the browser apps may load: the origins answers' images may come from besides the page's own.");
        return app;
    }

    public static string ContentSecurityPolicy(ChatClientOptions options) => string.Join("; ",
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        $"img-src {string.Join(' ', ["'self'", "data:", .. options.ImageSources])}",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'");
}
