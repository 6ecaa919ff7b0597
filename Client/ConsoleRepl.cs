using ChatStreaming.Client.Core;
using ChatStreaming.Contracts;
using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Client;

/// <summary>
/// The interactive mode: plain lines are messages; commands manage conversations (/new, /list, /open, /rename, /delete,
/// /search, /regenerate, /edit, /export, /model, /usage, /cancel, /quit).
/// </summary>
internal sealed partial class ConsoleRepl(ChatSession session, ConsoleApp app)
{
    private const string Help = """
        Commands: /new [title], /list, /open <id|number>, /rename <title>, /delete, /search <words>, /regenerate,
        /edit <new text of your last message>, /export [markdown|json] [file], /model [name|default], /usage, /cancel,
        /quit. Other lines are sent.
        Ctrl+C stops an answer; twice quits.
        """;
    private IReadOnlyList<Conversation> listed = [];
    private IReadOnlyList<SearchHit> found = [];
    private Message? lastQuestion;
    private Guid? lastAnswer;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        Console.WriteLine($"Connected. {Help}");
        while (!cancellationToken.IsCancellationRequested)
        {
            Console.Write(session.ConversationId is null ? "> " : "you> ");
            var line = await Console.In.ReadLineAsync(cancellationToken);
            if (line is null || line.Trim() == "/quit")
            {
                return 0;
            }

            try
            {
                await HandleAsync(line.Trim(), cancellationToken);
            }
            catch (HubException ex)
            {
                Console.Error.WriteLine($"error: {HubErrors.Message(ex)}");
            }
        }

        return 0;
    }

    private async Task HandleAsync(string line, CancellationToken cancellationToken)
    {
        var (command, argument) = line.Split(' ', 2, StringSplitOptions.TrimEntries) switch
        {
            [var c] => (c, ""),
            [var c, var a] => (c, a),
            _ => ("", ""),
        };
        switch (command)
        {
            case "":
                return;
            case "/new":
                var created = await session.CreateConversationAsync(argument.Length > 0 ? argument : null, cancellationToken);
                Console.WriteLine($"Opened new conversation \"{created.Title}\" ({created.Id}).");
                return;
            case "/list":
                listed = await session.ListConversationsAsync(cancellationToken);
                for (var i = 0; i < listed.Count; i++)
                {
                    Console.WriteLine($"{i + 1,3}. {TerminalText.Strip(listed[i].Title)}  ({listed[i].Id}, {listed[i].UpdatedAt.LocalDateTime:g})");
                }

                if (listed.Count == 0)
                {
                    Console.WriteLine("No conversations yet: /new starts one.");
                }

                return;
            case "/open":
                var id = int.TryParse(argument, out var number) && number >= 1 && number <= listed.Count ? listed[number - 1].Id
                    : Guid.TryParse(argument, out var guid) ? guid
                    : throw new HubException("usage: /open <id> or /open <number from /list>");
                Print(await session.OpenAsync(id, cancellationToken));
                return;
            case "/rename":
            case "/delete":
            case "/search":
            case "/regenerate":
            case "/edit":
            case "/export":
            case "/model":
            case "/usage":
                await ManageAsync(command, argument, cancellationToken);
                return;
            case "/cancel":
                foreach (var messageId in session.Streaming())
                {
                    await session.CancelAsync(messageId);
                }

                return;
            case "/help":
                Console.WriteLine(Help);
                return;
            default:
                if (command.StartsWith('/'))
                {
                    Console.WriteLine($"Unknown command {command}. {Help}");
                    return;
                }

                if (session.ConversationId is null)
                {
                    await session.CreateConversationAsync(line.Length > 40 ? line[..40] : line, cancellationToken);
                }

                await AnswerAsync(() => session.SendAsync(line, cancellationToken), line);
                return;
        }
    }
}
