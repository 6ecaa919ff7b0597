using Microsoft.AspNetCore.Components;

namespace ChatStreaming.Web.Pages;

/// <summary>The chat page's answers as HTML.</summary>
public sealed partial class Chat
{
    // Each answer's HTML as last rendered, with the text it was rendered from: a chunk re-renders the page, and only the
    // answer whose text changed is parsed again (Markdig in WebAssembly), not every answer of the conversation.
    private readonly Dictionary<Guid, (string Source, MarkupString Html)> answersHtml = [];

    /// <summary>The answer's text as safe HTML (<see cref="Markdown.ToHtml"/>), parsed again only when the text changed.</summary>
    private MarkupString AnswerHtml(Guid messageId, string text)
    {
        if (answersHtml.TryGetValue(messageId, out var rendered) && string.Equals(rendered.Source, text, StringComparison.Ordinal))
        {
            return rendered.Html;
        }

        var html = (MarkupString)Markdown.ToHtml(text);
        answersHtml[messageId] = (text, html);
        return html;
    }
}
