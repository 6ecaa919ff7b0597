using System.CommandLine;
using ChatStreaming.Client;
using ChatStreaming.Client.Core;

// dotnet run --project Client -- --url http://127.0.0.1:5080 --user alice                 (interactive)
// dotnet run --project Client -- --url http://127.0.0.1:5080 --user alice --prompt "Hi"   (prints the answer, exit 0 when completed)
// dotnet run --project Client -- --url http://127.0.0.1:5080 --user alice --search "redis" (prints the hits; --json: one object per line)
var url = new Option<Uri>("--url")
{
    Description = "The hub's base URL, e.g. http://127.0.0.1:5080",
    Required = true,
    CustomParser = result =>
    {
        if (Uri.TryCreate(result.Tokens.Single().Value, UriKind.Absolute, out var value) && value.Scheme is "http" or "https")
        {
            return value;
        }

        result.AddError("--url must be an absolute http:// or https:// URL.");
        return null;
    },
};
var user = new Option<string>("--user") { Description = "User name for a development token (the server must have Auth:EnableDevTokens)" };
var token = new Option<string>("--token") { Description = "A bearer token to use instead of --user" };
var prompt = new Option<string>("--prompt") { Description = "Send this message, print the answer as it streams, exit with its status" };
var conversation = new Option<Guid?>("--conversation") { Description = "With --prompt: the conversation to use (default: a new one); with --search: search only there" };
var search = new Option<string>("--search") { Description = "Search your saved messages for these words, print the hits and exit" };
var json = new Option<bool>("--json") { Description = "Print one JSON line per event instead of text" };
var model = new Option<string>("--model") { Description = "The model (a name the server lists) every message of this session asks for; /model changes it" };

var protocol = new Option<ChatHubProtocol>("--protocol") { Description = "The hub protocol: Json (default) or MessagePack", DefaultValueFactory = _ => ChatHubProtocol.Json };

var root = new RootCommand("ChatStreaming console client: chat with a ChatStreaming hub from the terminal.")
{
    url, user, token, prompt, conversation, search, json, model, protocol,
};
root.Validators.Add(result =>
{
    if (result.GetValue(user) is null && result.GetValue(token) is null)
    {
        result.AddError("Give --user NAME (development token) or --token TOKEN.");
    }

    if (result.GetValue(prompt) is not null && result.GetValue(search) is not null)
    {
        result.AddError("Give --prompt or --search, not both.");
    }
});
root.SetAction((parseResult, cancellationToken) => new ConsoleApp(
        parseResult.GetValue(url)!,
        parseResult.GetValue(user),
        parseResult.GetValue(token),
        parseResult.GetValue(json),
        parseResult.GetValue(model),
        parseResult.GetValue(protocol))
    .RunAsync(parseResult.GetValue(prompt), parseResult.GetValue(conversation), parseResult.GetValue(search)));

// Ctrl+C is ours: the first one during an answer cancels it, the next one quits.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
