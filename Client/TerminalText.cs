using System.Text;

namespace ChatStreaming.Client;

/// <summary>
/// Model (and other users') text made safe to write to a terminal: escape sequences — CSI (<c>ESC [</c> … final byte),
/// OSC, DCS, SOS, PM and APC strings (up to BEL or ST; OSC 52 writes the clipboard, OSC 0 the window title), and
/// two-character <c>ESC</c> sequences — are dropped whole, and so are C1 controls and C0 controls other than tab and
/// newline. An answer cannot move the cursor, clear the screen, recolour or hide text, or retitle the window.
/// Stateful: a sequence split across streamed chunks is dropped whole. One instance per stream of text.
/// </summary>
internal sealed class TerminalText
{
    private enum State { Text, Escape, Csi, String, StringEscape }

    private State state;

    /// <summary>Cleans one string on its own (a whole message, a search snippet).</summary>
    public static string Strip(string text) => new TerminalText().Clean(text);

    /// <summary>The printable part of the next piece of a stream.</summary>
    public string Clean(string text)
    {
        var clean = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            switch (state)
            {
                case State.Text:
                    if (c == '\u001b')
                    {
                        state = State.Escape;
                    }
                    else if (c == '\u009b')
                    {
                        state = State.Csi;
                    }
                    else if (c is '\u0090' or '\u009d' or '\u0098' or '\u009e' or '\u009f')
                    {
                        state = State.String;
                    }
                    else if (c is '\n' or '\t' || !(char.IsControl(c)))
                    {
                        clean.Append(c);
                    }

                    break;
                case State.Escape:
                    state = c switch
                    {
                        '[' => State.Csi,
                        ']' or 'P' or 'X' or '^' or '_' => State.String,
                        >= ' ' and <= '/' => State.Escape, // an intermediate byte: the final one follows
                        _ => State.Text,
                    };
                    break;
                case State.Csi:
                    if (c is >= '@' and <= '~')
                    {
                        state = State.Text;
                    }

                    break;
                case State.String:
                    state = c switch
                    {
                        '\u0007' or '\u009c' => State.Text,
                        '\u001b' => State.StringEscape,
                        _ => State.String,
                    };
                    break;
                case State.StringEscape:
                    state = c == '\u001b' ? State.StringEscape : State.Text; // ESC \ ends the string
                    break;
            }
        }

        return clean.ToString();
    }
}
