using ChatStreaming.Contracts;
using Microsoft.Extensions.AI;

namespace ChatStreaming.Worker.Model;

/// <summary>
/// What the model is sent: the system prompt (the conversation's, else the model's), the newest earlier messages that
/// fit the budget, the new message.
/// </summary>
internal static class ConversationContext
{
    /// <param name="history">Earlier messages, newest first.</param>
    public static List<ChatMessage> Build(
        ModelOptions options, IReadOnlyList<(MessageRole Role, string Content)> history, string prompt, string? systemPrompt = null)
    {
        var budget = options.MaxContextCharacters - prompt.Length;
        var kept = new List<(MessageRole Role, string Content)>();
        foreach (var message in history)
        {
            if (kept.Count >= options.MaxContextMessages || message.Content.Length > budget)
            {
                break; // newest first: an older message never jumps a newer one that did not fit
            }

            budget -= message.Content.Length;
            kept.Add(message);
        }

        kept.Reverse();
        List<ChatMessage> messages = [];
        systemPrompt = string.IsNullOrWhiteSpace(systemPrompt) ? options.SystemPrompt : systemPrompt;
        if (!string.IsNullOrWhiteSpace(systemPrompt))
        {
            messages.Add(new ChatMessage(ChatRole.System, systemPrompt));
        }

        messages.AddRange(kept.Select(m => new ChatMessage(m.Role == MessageRole.User ? ChatRole.User : ChatRole.Assistant, m.Content)));
        messages.Add(new ChatMessage(ChatRole.User, prompt));
        return messages;
    }

    /// <summary>The characters of what <see cref="Build"/> made: what an answer's request is charged from (UsageCharge).</summary>
    public static long Characters(IEnumerable<ChatMessage> messages) => messages.Sum(m => (long)m.Text.Length);

    /// <summary>What a successor tells the model when it carries on an answer another instance began.</summary>
    public const string ContinueInstruction = "Continue your previous answer exactly where it stopped. Do not repeat any of it.";

    /// <summary>
    /// A taken-over answer's request (chat completions have no server-side resume): the conversation, the tool calls the
    /// answer already made with their results, the answer's text so far as the assistant's turn, then
    /// <see cref="ContinueInstruction"/>. A tool whose result is in the replay buffer is not run again (the model reads
    /// its result); a call streamed without its result is left out, so the model decides again whether to make it
    /// (safe for read-only tools such as search_history; see docs/reliability.md). The prompt is sent again; the
    /// model's seam is its own (it may restart a sentence).
    /// </summary>
    public static List<ChatMessage> Continue(List<ChatMessage> messages, string content, IReadOnlyList<MessagePart> parts)
    {
        foreach (var (call, result) in ModelParts.ToolRounds(parts))
        {
            messages.Add(new ChatMessage(ChatRole.Assistant, [call]));
            messages.Add(new ChatMessage(ChatRole.Tool, [result]));
        }

        var continued = messages[^1].Role == ChatRole.Tool;
        if (content.Length > 0)
        {
            messages.Add(new ChatMessage(ChatRole.Assistant, content));
            continued = true;
        }

        if (continued)
        {
            messages.Add(new ChatMessage(ChatRole.User, ContinueInstruction));
        }

        return messages;
    }
}
