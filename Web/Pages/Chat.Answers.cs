using Microsoft.AspNetCore.Components;

namespace ChatStreaming.Web.Pages;

/// <summary>The chat page's answers as HTML, and how often streaming text is drawn.</summary>
public sealed partial class Chat
{
    // Each answer's HTML as last rendered, with the text it was rendered from: a chunk re-renders the page, and only the
    // answer whose text changed is parsed again (Markdig in WebAssembly), not every answer of the conversation.
    private readonly Dictionary<Guid, (string Source, MarkupString Html)> answersHtml = [];

    /// <summary>
    /// How often the page draws streaming text at most. Chunks come tens of times a second per answer (hundreds with a
    /// fast model), and each draw parses the streaming answer's Markdown again, at a cost growing with its length: the
    /// chunks that arrive within one frame are drawn together, at the JavaScript page's pace (TEXT_FRAME_MS in
    /// Hub/wwwroot/markdown.js). A start, an end or a new message renders at once (<see cref="Refresh"/>).
    /// </summary>
    private static readonly TimeSpan TextFrame = TimeSpan.FromMilliseconds(50);

    private int textFramePending; // 1 while a draw of streaming text is scheduled

    /// <summary>Draws the text that came (a chunk, a part) within <see cref="TextFrame"/>, once for all that came meanwhile.</summary>
    private void RefreshText()
    {
        if (Interlocked.Exchange(ref textFramePending, 1) == 1)
        {
            return;
        }

        _ = InvokeAsync(async () =>
        {
            await Task.Delay(TextFrame);
            Volatile.Write(ref textFramePending, 0);
            StateHasChanged();
        });
    }

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
