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
}
