using ChatStreaming.FakeOpenAI;

// Standalone: dotnet run --project Tools/FakeOpenAI -- --urls http://127.0.0.1:5099 --tokens-per-second 50 --tokens 60
// Serves /v1/chat/completions (OpenAI) and /openai/deployments/{name}/chat/completions (Azure) with streamed answers.
var configuration = new ConfigurationBuilder()
    .AddCommandLine(args, new Dictionary<string, string>
    {
        ["--urls"] = "Urls",
        ["--tokens-per-second"] = "TokensPerSecond",
        ["--tokens"] = "Tokens",
    })
    .Build();
var url = configuration["Urls"] ?? "http://127.0.0.1:5099";
var tokensPerSecond = configuration.GetValue("TokensPerSecond", 50.0);
var tokens = configuration.GetValue("Tokens", 60);

await using var server = await FakeOpenAIServer.StartAsync(FakeReply.Tokens(tokens, tokensPerSecond), url);
Console.WriteLine($"Fake OpenAI server on {server.Url}: {tokens} tokens at {tokensPerSecond}/s. Ctrl-C stops it.");
var stop = new TaskCompletionSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.TrySetResult();
await stop.Task;
