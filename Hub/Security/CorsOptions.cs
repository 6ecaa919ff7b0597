namespace ChatStreaming.Server.Security;

/// <summary>The <c>Cors</c> section: browser origins other than the hub's own that may call it.</summary>
public sealed class ChatCorsOptions
{
    public const string SectionName = "Cors";

    /// <summary>Exact origins such as <c>https://app.example.com</c>. Empty: only pages served by the hub itself.</summary>
    public string[] AllowedOrigins { get; set; } = [];
}
