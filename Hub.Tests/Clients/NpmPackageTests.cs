using System.Text.RegularExpressions;

namespace ChatStreaming.Hub.Tests.Clients;

/// <summary>
/// @chatstreaming/client as a user gets it: the packed tarball (./test.sh packs it into artifacts/packages, or this
/// test does) installed into a scratch project, a TypeScript program using it type-checked by tsc (including lines
/// that must not type-check), then run under Node against two instances.
/// </summary>
[Collection(RedisClusterCollection.Name)] // balanced: the packages run against hubs on a Redis Cluster
public sealed class NpmPackageTests(ChatOnRedisCluster cluster)
{
    private const string Usage = """
        import { ChatClient, getDevToken, type Answer, type ModelInfo } from "@chatstreaming/client";

        const [a, b] = process.argv.slice(2);
        const timer = setTimeout(() => { console.log("timed out"); process.exit(1); }, 60_000);
        const { accessToken } = await getDevToken(a, "npm-user");
        const ended = new Map<string, Answer>();
        const watcher = new ChatClient({ // on the MessagePack protocol, the sender on JSON: the same fields either way
          baseUrl: b,
          protocol: "messagepack",
          accessTokenFactory: () => accessToken,
          onAnswer: (answer: Answer) => { if (answer.status !== "streaming") ended.set(answer.messageId, answer); },
        });
        const sender = new ChatClient({ baseUrl: a, accessTokenFactory: () => accessToken });
        await sender.start();
        await watcher.start();
        const models: ModelInfo[] = await sender.listModels();
        const conversation = await sender.createConversation("from npm");
        await watcher.open(conversation.id);
        await sender.open(conversation.id);
        const sent = await sender.send("Hello from the npm package");
        while (!ended.has(sent.assistantMessageId)) await new Promise((r) => setTimeout(r, 20));
        const answer = ended.get(sent.assistantMessageId)!;
        // A conversation that cannot be opened leaves the one open before open: the next send still goes there.
        const unknown = await sender.open("00000000-0000-0000-0000-000000000001").then(() => "opened", () => "refused");
        const again = await sender.send("Still here");
        while (!ended.has(again.assistantMessageId)) await new Promise((r) => setTimeout(r, 20));
        console.log(`open unknown: ${unknown}, still open: ${sender.conversationId === conversation.id}`);
        console.log(`models: ${models.map((m) => m.name).join(",")}`);
        console.log(`answer: ${answer.status} ${answer.parts.map((p) => p.kind).join(",")} ${answer.lastSequence}`);
        console.log(`text: ${answer.text.split("\n")[0]}`);
        await sender.stop();
        await watcher.stop();
        clearTimeout(timer);
        """;

    // Each line must be a type error: the declarations are precise, not `any`.
    private const string Wrong = """
        import { ChatClient, type Answer } from "@chatstreaming/client";

        declare const answer: Answer;
        // @ts-expect-error a status is one of the known names
        const status: "done" = answer.status;
        // @ts-expect-error accessTokenFactory is required
        new ChatClient({ baseUrl: "" });
        // @ts-expect-error a protocol is "json" or "messagepack"
        new ChatClient({ accessTokenFactory: () => "", protocol: "xml" });
        // @ts-expect-error send takes the text first
        void new ChatClient({ accessTokenFactory: () => "" }).send(42);
        export { status };
        """;

    [Fact]
    public async Task ThePackedClientTypeChecksWithTscAndStreamsAnAnswerToTheOtherInstance()
    {
        var root = BuildOutput.Root;
        var version = BuildOutput.Version;
        var tarball = Path.Combine(root, "artifacts", "packages", $"chatstreaming-client-{version}.tgz");
        if (!File.Exists(tarball))
        {
            await ChildProcess.RunToSuccessAsync("bash", [Path.Combine(root, "clients", "js", "pack.sh")]);
        }

        var scratch = Directory.CreateTempSubdirectory("npm-consumer-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(scratch, "package.json"), """{ "name": "npm-consumer", "private": true, "type": "module" }""");
            await File.WriteAllTextAsync(Path.Combine(scratch, "tsconfig.json"), """
                { "compilerOptions": { "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true,
                  "types": ["node"], "outDir": "out", "skipLibCheck": false }, "include": ["*.ts"] }
                """);
            await File.WriteAllTextAsync(Path.Combine(scratch, "usage.ts"), Usage);
            await File.WriteAllTextAsync(Path.Combine(scratch, "wrong.ts"), Wrong);
            await ChildProcess.RunToSuccessAsync("npm", ["install", "--prefix", scratch, "--no-audit", "--no-fund", "--loglevel=error", tarball, "typescript@5.9.3", "@types/node@20.19.43"]);
            await ChildProcess.RunToSuccessAsync("node", [Path.Combine(scratch, "node_modules", "typescript", "bin", "tsc"), "-p", scratch]);

            await using var run = ChildProcess.Start("node", [Path.Combine(scratch, "out", "usage.js"), cluster.A, cluster.B]);
            await run.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token);

            Assert.True(run.ExitCode == 0, string.Join('\n', run.Output));
            Assert.Contains("models: default", run.Output);
            Assert.Contains("open unknown: refused, still open: true", run.Output); // before: the send that follows went to the unknown id
            Assert.Contains(run.Output, l => Regex.IsMatch(l, @"^answer: completed text \d+$"));
            Assert.Contains(run.Output, l => l.StartsWith("text: Simulated Hello from the npm", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }


}
