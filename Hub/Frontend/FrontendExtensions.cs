namespace ChatStreaming.Server.Frontend;

/// <summary>The two browser clients the hub serves: the JavaScript page at <c>/</c> and the Blazor app at <c>/web/</c>.</summary>
internal static class FrontendExtensions
{
    public static WebApplication UseChatFrontend(this WebApplication app)
    {
        app.UseDefaultFiles(); // "/" serves the browser chat page (wwwroot/index.html)
        app.UseBlazorFrameworkFiles("/web"); // "/web/" serves the Blazor WebAssembly app (Web/)
        app.UseStaticFiles();
        return app;
    }

    /// <summary>The Blazor app's own routes (deep links under /web/) load its page.</summary>
    public static WebApplication MapChatFrontend(this WebApplication app)
    {
        app.MapFallbackToFile("/web/{*path:nonfile}", "web/index.html");
        return app;
    }
}
