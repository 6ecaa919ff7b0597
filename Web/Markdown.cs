using Markdig;
using Markdig.Renderers;
using Markdig.Renderers.Html;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace ChatStreaming.Web;

/// <summary>
/// Answers as HTML, safe to insert: raw HTML in the text is escaped (Markdig's <c>DisableHtml</c>), links and images keep
/// only http(s), mailto and in-page addresses (a <c>javascript:</c> link becomes plain text), and no extension that lets
/// the text set attributes is on. Links open in a new tab without access to this page.
/// </summary>
internal static class Markdown
{
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
            if (!IsSafe(link.Url))
            {
                link.Url = "";
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

    private static bool IsSafe(string? url) =>
        string.IsNullOrEmpty(url)
        || url.StartsWith('#')
        || (url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal))
        || (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "mailto");
}
