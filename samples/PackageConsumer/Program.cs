using ChatStreaming.Client.Core;
using ChatStreaming.Contracts;

// A console app built only on the NuGet packages: signs in, lists the models, asks one question and prints the answer.
// Usage: dotnet run --project samples/PackageConsumer -- http://127.0.0.1:5080 alice
if (args.Length < 2 || !Uri.TryCreate(args[0], UriKind.Absolute, out var hub))
{
    Console.Error.WriteLine("usage: PackageConsumer <hub url> <user name>");
    return 2;
}

using var http = new HttpClient { BaseAddress = hub };
var token = (await DevTokens.RequestAsync(http, args[1], CancellationToken.None)).AccessToken;
await using var session = new ChatSession(hub, () => Task.FromResult<string?>(token));
var done = new TaskCompletionSource<AnswerState>(TaskCreationOptions.RunContinuationsAsynchronously);
session.Finished += answer => done.TrySetResult(answer);
await session.StartAsync(CancellationToken.None);

var models = await session.ListModelsAsync(CancellationToken.None);
Console.WriteLine($"models: {string.Join(", ", models.Select(m => m.Name))}");
var conversation = await session.CreateConversationAsync("from the packages", CancellationToken.None);
var sent = await session.SendAsync("Hello from the NuGet packages", CancellationToken.None);
var answer = await done.Task.WaitAsync(TimeSpan.FromSeconds(60));
var finished = answer.Finished!;
Console.WriteLine($"conversation: {conversation.Id}");
Console.WriteLine($"answer: {sent.AssistantMessageId} {finished.Status.ToWireName()} {finished.Model}");
Console.WriteLine(answer.Text.ToString());
return finished.Status == MessageStatus.Completed ? 0 : 1;
