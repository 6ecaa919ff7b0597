using System.Text.Json;
using ChatStreaming.Client.Core;
using ChatStreaming.Contracts;

namespace ChatStreaming.Client;

/// <summary>What the client prints: answers as they stream (text, dimmed reasoning and tool lines), search hits, and JSON lines with --json.</summary>
internal sealed partial class ConsoleApp
{
    private static readonly JsonSerializerOptions JsonLines = new(JsonSerializerDefaults.Web);

    private void Wire(ChatSession session)
    {
        if (json)
        {
            session.Started += started => WriteJson(new { @event = "started", started.ConversationId, started.MessageId, started.UserMessageId });
            session.ChunkReceived += chunk => WriteJson(chunk.Kind == ChunkKinds.Text
                ? new { @event = "chunk", chunk.ConversationId, chunk.MessageId, chunk.Sequence, chunk.Delta, chunk.EmittedAt, chunk.Kind }
                : new { @event = chunk.Kind, chunk.ConversationId, chunk.MessageId, chunk.Sequence, chunk.Delta, chunk.EmittedAt, chunk.Kind, chunk.Part });
            session.Finished += answer => WriteJson(new { @event = "finished", answer.Finished });
            session.Resumed += answer => WriteJson(new { @event = "resumed", answer.ConversationId, answer.MessageId, FromSequence = answer.ResumedFrom });
            session.StateChanged += state =>
            {
                if (!closing)
                {
                    WriteJson(new { @event = state });
                }
            };
        }
        else
        {
            var inReasoning = false;
            var answerText = new TerminalText(); // the model's text never reaches the terminal with its escape sequences
            var partText = new TerminalText();
            session.Resumed += answer =>
            {
                if (answer.ConversationId == session.ConversationId)
                {
                    Console.Write(Dim(" [resumed after a server restart] "));
                }
            };
            session.TextAppended += (answer, text) =>
            {
                if (answer.ConversationId == session.ConversationId)
                {
                    if (inReasoning)
                    {
                        Console.Write(Dim("\n"));
                        inReasoning = false;
                    }

                    Console.Write(answerText.Clean(text));
                }
            };
            session.PartReceived += (answer, chunk) =>
            {
                if (answer.ConversationId != session.ConversationId)
                {
                    return;
                }

                // Reasoning streams dimmed as it comes; a tool call and its result are one dimmed line each.
                if (chunk.Kind == ChunkKinds.Reasoning)
                {
                    Console.Write(Dim(partText.Clean(inReasoning ? chunk.Part ?? "" : $"thinking: {chunk.Part}")));
                    inReasoning = true;
                    return;
                }

                Console.WriteLine(Dim($"{(inReasoning ? "\n" : "")}{TerminalText.Strip(ToolLine(chunk))}"));
                inReasoning = false;
            };
            session.StateChanged += state =>
            {
                if (!closing && !quit.IsCancellationRequested)
                {
                    Console.Error.WriteLine($"[{state}]");
                }
            };
        }
    }

    internal static void PrintHits(IReadOnlyList<SearchHit> hits)
    {
        if (hits.Count == 0)
        {
            Console.WriteLine("No messages found.");
        }

        for (var i = 0; i < hits.Count; i++)
        {
            var hit = hits[i];
            Console.WriteLine($"{i + 1,3}. {TerminalText.Strip(hit.ConversationTitle)} ({hit.ConversationId}) {(hit.Role == MessageRole.User ? "you" : "assistant")}: {TerminalText.Strip(hit.Snippet.ReplaceLineEndings(" "))}");
        }
    }

    /// <summary>Dimmed (ANSI faint) on a terminal; plain when the output is redirected.</summary>
    private static string Dim(string text) => Console.IsOutputRedirected || text.Length == 0 ? text : $"\u001b[2m{text}\u001b[0m";

    /// <summary>"[tool] search_history {"query":"zebra"}" / "[tool result] [...]", results cut at 200 characters.</summary>
    internal static string ToolLine(Chunk chunk)
    {
        try
        {
            using var part = JsonDocument.Parse(chunk.Part ?? "{}");
            var root = part.RootElement;
            var line = chunk.Kind == ChunkKinds.ToolCall
                ? $"[tool] {root.GetProperty("name").GetString()} {(root.TryGetProperty("arguments", out var args) ? args.GetRawText() : "")}"
                : $"[tool result] {(root.TryGetProperty("result", out var result) ? result.GetRawText() : "")}";
            line = line.ReplaceLineEndings(" ");
            return line.Length > 200 ? line[..200] + "…" : line;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return $"[{chunk.Kind}]";
        }
    }

    private static void WriteJson(object value) => Console.WriteLine(JsonSerializer.Serialize(value, JsonLines));
}
