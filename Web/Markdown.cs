using Markdig;
using Markdig.Renderers;
using Markdig.Renderers.Html;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace ChatStreaming.Web;

/// <summary>
/// Answers as HTML, safe to insert: raw HTML in the text is escaped (Markdig's <c>DisableHtml</c>), links and images keep
/// only http(s), mailto and in-page addresses (a <c>javascript:</c> link becomes plain text), and no extension that lets
/// the text set attributes is on. Links open in a new tab without access to this page. An image is shown only from the
/// hub's origin, <c>data:</c> or an origin the operator allowed (<c>Chat:Clients:ImageSources</c>): any other is a link,
/// so an answer cannot make the page fetch an address of its choosing (the page's CSP refuses it as well).
/// </summary>
internal static class Markdown
{
    private static Uri? origin;
    private static HashSet<string> imageSources = [];

    /// <summary>The page's origin and the other origins answers' images may be shown from.</summary>
    public static void AllowImagesFrom(Uri hub, IEnumerable<string> origins)
    {
        origin = hub;
        imageSources = new HashSet<string>(origins.Select(o => o.TrimEnd('/')), StringComparer.OrdinalIgnoreCase);
    }

    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .UsePipeTables()
        .UseGridTables()
        .UseAutoLinks()
        .UseEmphasisExtras()
        .UseTaskLists()
        .DisableHtml()
        .Build();

    public static string ToHtml(string source)
    {
        var document = Markdig.Markdown.Parse(source, Pipeline);
        foreach (var link in document.Descendants<LinkInline>())
        {
            if (!IsSafe(link.Url) && !(link.IsImage && IsDataImage(link.Url)))
            {
                link.Url = "";
            }

            if (link.IsImage && !ImageAllowed(link.Url))
            {
                link.IsImage = false; // shown as a link to it, its alt text as the link's text
            }

            if (!link.IsImage)
            {
                var attributes = link.GetAttributes();
                attributes.AddPropertyIfNotExist("target", "_blank");
                attributes.AddPropertyIfNotExist("rel", "noopener noreferrer nofollow");
            }
        }

        foreach (var link in document.Descendants<AutolinkInline>())
        {
            if (!IsSafe(link.Url))
            {
                link.Url = "";
            }
        }

        using var writer = new StringWriter();
        var renderer = new HtmlRenderer(writer);
        Pipeline.Setup(renderer);
        renderer.Render(document);
        return writer.ToString();
    }

    private static bool ImageAllowed(string? url)
    {
        if (string.IsNullOrEmpty(url) || url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var absolute))
        {
            return !url.StartsWith("//", StringComparison.Ordinal); // relative: the page's own origin
        }

        var its = absolute.GetLeftPart(UriPartial.Authority);
        return (origin is not null && string.Equals(its, origin.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase))
            || imageSources.Contains(its);
    }

    private static bool IsDataImage(string? url) => url?.StartsWith("data:image/", StringComparison.OrdinalIgnoreCase) == true;

    private static bool IsSafe(string? url) =>
        string.IsNullOrEmpty(url)
        || url.StartsWith('#')
        || (url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal))
        || (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "mailto");
}
