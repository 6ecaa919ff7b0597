using System.Text;

namespace ChatStreaming.Persistence;

/// <summary>
/// Postgres <c>text</c> cannot hold U+0000, but users and models may send it; text is stored with a reversible escape
/// so it reads back verbatim. The escape character is U+E000 (private use): NUL is stored as U+E000 '0', U+E000 itself
/// as U+E000 U+E000. Text with neither (nearly all) is stored unchanged.
/// </summary>
public static class StoredText
{
    private const char Escape = '\uE000';

    public static string Encode(string text)
    {
        if (text.AsSpan().IndexOfAny('\0', Escape) < 0)
        {
            return text;
        }

        var stored = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            _ = c switch
            {
                '\0' => stored.Append(Escape).Append('0'),
                Escape => stored.Append(Escape).Append(Escape),
                _ => stored.Append(c),
            };
        }

        return stored.ToString();
    }

    public static string Decode(string stored)
    {
        if (!stored.Contains(Escape, StringComparison.Ordinal))
        {
            return stored;
        }

        var text = new StringBuilder(stored.Length);
        for (var i = 0; i < stored.Length; i++)
        {
            if (stored[i] == Escape && i + 1 < stored.Length)
            {
                text.Append(stored[++i] == '0' ? '\0' : stored[i]);
            }
            else
            {
                text.Append(stored[i]);
            }
        }

        return text.ToString();
    }

    public static string? DecodeNullable(string? stored) => stored is null ? null : Decode(stored);
}
