namespace ChatStreaming.Web;

internal static class HubAddress
{
    /// <summary>The hub is the origin that serves this app (at /web/): same origin, no CORS.</summary>
    public static Uri From(string appBaseAddress) => new(new Uri(appBaseAddress), "/");
}
