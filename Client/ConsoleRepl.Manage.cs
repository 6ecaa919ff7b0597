using ChatStreaming.Client.Core;
using ChatStreaming.Contracts;
using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Client;

/// <summary>The REPL's conversation management: rename, delete, search, regenerate, edit, export; models and usage.</summary>
internal sealed partial class ConsoleRepl
{
    private async Task ManageAsync(string command, string argument, CancellationToken cancellationToken)
    {
        if (command == "/search")
        {
            if (argument.Length == 0)
            {
                throw new HubException("usage: /search <words>");
            }

            found = await session.SearchAsync(argument, 20, null, cancellationToken);
            ConsoleApp.PrintHits(found);
            if (found.Count > 0)
            {
                Console.WriteLine("/open <id> opens a conversation.");
            }

            return;
        }

        if (command is "/model" or "/usage")
        {
            await ModelsAsync(command, argument, cancellationToken);
            return;
        }

        var conversationId = session.ConversationId ?? throw new HubException("no conversation is open: /open or /new one first");
        switch (command)
        {
            case "/rename":
                var renamed = await session.RenameConversationAsync(conversationId, argument, cancellationToken);
                Console.WriteLine($"Renamed to \"{renamed.Title}\".");
                return;
            case "/delete":
                Console.Write("Delete this conversation and all its messages? [y/N] ");
                if ((await Console.In.ReadLineAsync(cancellationToken))?.Trim().ToLowerInvariant() is "y" or "yes")
                {
                    await session.DeleteConversationAsync(conversationId, cancellationToken);
                    (lastQuestion, lastAnswer) = (null, null);
                    Console.WriteLine("Deleted.");
                }
                else
                {
                    Console.WriteLine("Kept.");
                }

                return;
            case "/regenerate":
                var answerId = lastAnswer ?? throw new HubException("no answer to regenerate yet");
                await AnswerAsync(() => session.RegenerateAsync(answerId, cancellationToken), null);
                return;
            case "/edit":
                var question = lastQuestion ?? throw new HubException("no message of yours to edit yet");
                if (argument.Length == 0)
                {
                    throw new HubException($"usage: /edit <new text> (your last message: \"{question.Content}\")");
                }

                await AnswerAsync(() => session.EditAsync(question.Id, argument, cancellationToken), argument);
                return;
            case "/export":
                var words = argument.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                var format = words.FirstOrDefault() ?? "markdown";
                var exported = await app.ExportAsync(conversationId, format);
                if (words.Length > 1)
                {
                    await File.WriteAllTextAsync(words[1], exported, cancellationToken);
                    Console.WriteLine($"Exported to {words[1]}.");
                }
                else
                {
                    Console.WriteLine(exported);
                }

                return;
        }
    }

    /// <summary>Starts an answer (send, regenerate, edit), prints it as it streams, and remembers it for /regenerate and /edit.</summary>
    private async Task AnswerAsync(Func<Task<SendMessageResult>> start, string? question)
    {
        SendMessageResult? started = null;
        Console.Write("assistant> ");
        var answer = await app.AskAsync(session, async () => started = await start());
        lastAnswer = answer.MessageId;
        if (question is not null && started is not null)
        {
            lastQuestion = new Message(started.UserMessageId, answer.ConversationId, MessageRole.User, question, MessageStatus.Completed, DateTimeOffset.UtcNow, null, null);
        }

        var finished = answer.Finished!;
        Console.WriteLine(finished.Status == MessageStatus.Completed ? "" : $" [{finished.Status.ToWireName()}{(finished.Error is null ? "" : $": {finished.Error}")}]");
    }

    /// <summary>A conversation's active branch; its last question and answer become what /edit and /regenerate act on.</summary>
    private void Print(ConversationSnapshot snapshot)
    {
        Console.WriteLine($"-- {TerminalText.Strip(snapshot.Conversation.Title)} --");
        foreach (var message in snapshot.Messages)
        {
            var versions = message.SiblingIds is { Count: > 1 } siblings ? $" ({siblings.ToList().IndexOf(message.Id) + 1}/{siblings.Count})" : "";
            var status = message.Status is MessageStatus.Completed or MessageStatus.Streaming ? "" : $" [{message.Status.ToWireName()}]";
            Console.WriteLine($"{(message.Role == MessageRole.User ? "you" : "assistant")}{versions}: {TerminalText.Strip(message.Content)}{status}");
        }

        lastQuestion = snapshot.Messages.LastOrDefault(m => m.Role == MessageRole.User);
        lastAnswer = snapshot.Messages.LastOrDefault(m => m.Role == MessageRole.Assistant)?.Id;
    }

    /// <summary>
    /// /model lists the server's models (* the one this session asks for); /model NAME makes the next messages ask for
    /// it, /model default goes back to the conversation's or the server's default. /usage prints the tokens used per model.
    /// </summary>
    private async Task ModelsAsync(string command, string argument, CancellationToken cancellationToken)
    {
        if (command == "/usage")
        {
            var usage = await session.GetUsageAsync(null, null, cancellationToken);
            foreach (var row in usage)
            {
                Console.WriteLine($"{row.Model,-20} {row.Answers,6} answers {row.PromptTokens,10} prompt {row.CompletionTokens,10} completion tokens");
            }

            if (usage.Count == 0)
            {
                Console.WriteLine("No answers yet.");
            }

            return;
        }

        var models = await session.ListModelsAsync(cancellationToken);
        if (argument.Length == 0)
        {
            foreach (var model in models)
            {
                var chosen = string.Equals(model.Name, session.Model ?? "", StringComparison.OrdinalIgnoreCase) ? "*" : " ";
                Console.WriteLine($"{chosen} {model.Name} ({model.Provider}{(model.IsDefault ? ", default" : "")}{(model.Tools is { Count: > 0 } tools ? $", tools: {string.Join(", ", tools)}" : "")})");
            }

            return;
        }

        if (argument == "default")
        {
            session.Model = null;
            Console.WriteLine("Messages use the conversation's model, else the server's default.");
            return;
        }

        session.Model = models.FirstOrDefault(m => string.Equals(m.Name, argument, StringComparison.OrdinalIgnoreCase))?.Name
            ?? throw new HubException(ChatErrors.UnknownModel(argument, models.Select(m => m.Name)));
        Console.WriteLine($"Messages now ask for {session.Model}.");
    }
}
