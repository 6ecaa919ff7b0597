namespace ChatStreaming.Server.Frontend;

/// <summary>The <c>Chat:Clients</c> section: what the browser apps the hub serves may load.</summary>
public sealed class ChatClientOptions
{
    public const string SectionName = "Chat:Clients";

    /// <summary>
    /// Origins (such as <c>https://images.example.com</c>) that answers' Markdown images may be loaded from, besides the
    /// page's own origin and <c>data:</c>. Empty by default: any other image is shown as a link, and the page's
    /// Content-Security-Policy would refuse to load it anyway.
    /// </summary>
    public string[] ImageSources { get; set; } = [];
}
