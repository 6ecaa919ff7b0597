using System.IO.Compression;

namespace ChatStreaming.Hub.Tests.Clients;

/// <summary>
/// The client libraries as NuGet packages: Contracts and Client.Core packed (by ./test.sh into artifacts/packages, or
/// here when that feed is missing), with their README and XML docs, and a sample that references only the packages
/// (samples/PackageConsumer) restored from that feed, built and run against the hub.
/// </summary>
[Collection(RedisClusterCollection.Name)] // balanced: the packages run against hubs on a Redis Cluster
public sealed class PackageTests(ChatOnRedisCluster cluster)
{
    [Fact]
    public async Task ASampleBuiltOnlyOnTheNuGetPackagesChatsWithTheHub()
    {
        var root = BuildOutput.Root;
        var version = BuildOutput.Version;
        var feed = Path.Combine(root, "artifacts", "packages");
        string[] packages = [$"ChatStreaming.Contracts.{version}.nupkg", $"ChatStreaming.Client.Core.{version}.nupkg"];
        if (!packages.All(p => File.Exists(Path.Combine(feed, p))))
        {
            foreach (var project in new[] { "Contracts", "Client.Core" })
            {
                await ChildProcess.RunToSuccessAsync("dotnet", ["pack", Path.Combine(root, project, $"{project}.csproj"), "-c", BuildOutput.Configuration, "--no-build", "-o", feed]);
            }
        }

        foreach (var (package, assembly) in packages.Zip(Assemblies))
        {
            using var zip = ZipFile.OpenRead(Path.Combine(feed, package));
            var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
            Assert.Contains($"lib/net10.0/{assembly}.dll", entries);
            Assert.Contains($"lib/net10.0/{assembly}.xml", entries); // the XML docs ship with it
            Assert.Contains("README.md", entries);
            using var nuspec = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
            var manifest = await nuspec.ReadToEndAsync();
            Assert.Contains($"<version>{version}</version>", manifest, StringComparison.Ordinal);
            Assert.Contains("<readme>README.md</readme>", manifest, StringComparison.Ordinal);
        }

        // A fresh restore from the local feed (its own packages folder), then build and run it.
        var sample = Path.Combine(root, "samples", "PackageConsumer");
        if (Directory.Exists(Path.Combine(sample, "obj")))
        {
            Directory.Delete(Path.Combine(sample, "obj"), recursive: true);
        }

        var output = Directory.CreateTempSubdirectory("package-consumer-").FullName;
        await ChildProcess.RunToSuccessAsync("dotnet", ["build", sample, "-c", "Release", "-o", output, "-nologo"]);
        await using var run = ChildProcess.Start("dotnet", [Path.Combine(output, "PackageConsumer.dll"), cluster.A, "package-user"]);
        await run.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token);

        Assert.True(run.ExitCode == 0, string.Join('\n', run.Output));
        Assert.Contains("models: default", run.Output);
        Assert.Contains(run.Output, l => l.StartsWith("answer: ", StringComparison.Ordinal) && l.EndsWith(" completed default", StringComparison.Ordinal));
        Assert.Contains(run.Output, l => l.StartsWith("Simulated Hello from the NuGet", StringComparison.Ordinal));
        Assert.DoesNotContain(Directory.GetFiles(output), f => f.EndsWith("ChatStreaming.Worker.dll", StringComparison.Ordinal)); // only the packages
    }

    private static readonly string[] Assemblies = ["ChatStreaming.Contracts", "ChatStreaming.Client.Core"];


}
