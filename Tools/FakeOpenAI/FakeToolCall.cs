namespace ChatStreaming.FakeOpenAI;

/// <summary>A tool call the fake model makes: the function's name and its arguments as a JSON object.</summary>
public sealed record FakeToolCall(string Name, string ArgumentsJson, string CallId = "call_fake_1");
