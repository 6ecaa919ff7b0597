using System.Reflection;
using System.Text.RegularExpressions;

namespace ChatStreaming.Hub.Tests.Architecture;

/// <summary>
/// The shape the README describes, read from the sources: the Worker's rooms depend on each other in one direction
/// only, nothing in it starts untracked work, no file outgrows what a reader takes in, and the hub stays thin.
/// </summary>
public sealed partial class ShapeTests
{
    private static readonly string WorkerDirectory = Path.Combine(BuildOutput.Root, "Worker");

    [Fact]
    public void TheWorkerRoomsHaveNoCycles()
    {
        var uses = RoomDependencies();
        var cycles = new List<string>();
        foreach (var room in uses.Keys)
        {
            // A room that reaches itself through its dependencies is in a cycle.
            var seen = new HashSet<string>();
            var path = new Stack<string>(uses[room]);
            while (path.TryPop(out var next))
            {
                if (next == room)
                {
                    cycles.Add(room);
                    break;
                }

                if (seen.Add(next) && uses.TryGetValue(next, out var further))
                {
                    foreach (var f in further)
                    {
                        path.Push(f);
                    }
                }
            }
        }

        Assert.True(uses.Count >= 8, $"found only the rooms {string.Join(", ", uses.Keys)}");
        Assert.Empty(cycles.Select(r => $"{r} -> {string.Join(", ", uses[r])}"));
    }

    [Fact]
    public void TheWorkerStartsNoUntrackedTasks()
    {
        Assert.DoesNotContain(Sources(WorkerDirectory), f => File.ReadAllText(f).Contains("Task.Run(", StringComparison.Ordinal));
    }

    [Fact]
    public void NoSourceFileOutsideTheTestsAndTheBenchmarkIsOver300Lines()
    {
        string[] products = ["Contracts", "Persistence", "Worker", "Hub", "Client.Core", "Client", "Web", "Tools"];
        var tooLong = products.SelectMany(p => Sources(Path.Combine(BuildOutput.Root, p)))
            .Select(f => (File: Path.GetRelativePath(BuildOutput.Root, f), Lines: File.ReadLines(f).Count()))
            .Where(f => f.Lines > 300);
        Assert.Empty(tooLong.Select(f => $"{f.File}: {f.Lines} lines"));
    }

    [Fact]
    public void TheHubTakesAtMostSixDependencies()
    {
        var hub = Assembly.LoadFrom(BuildOutput.Assembly("Hub", "ChatStreaming.Hub.dll")).GetType("ChatStreaming.Server.Chat.ChatHub", throwOnError: true)!;
        var parameters = hub.GetConstructors().Single().GetParameters();
        Assert.True(parameters.Length <= 6, $"ChatHub takes {parameters.Length}: {string.Join(", ", parameters.Select(p => p.ParameterType.Name))}");
    }

    /// <summary>Room (the namespace under ChatStreaming.Worker) → the rooms its files name, by using or by qualified name.</summary>
    private static Dictionary<string, HashSet<string>> RoomDependencies()
    {
        var uses = new Dictionary<string, HashSet<string>>();
        foreach (var file in Sources(WorkerDirectory))
        {
            var code = Comment().Replace(File.ReadAllText(file), "");
            var room = Namespace().Match(code).Groups[1].Value;
            if (room.Length == 0)
            {
                continue; // the root: options and the wiring, which every room may read
            }

            var named = uses.TryGetValue(room, out var set) ? set : uses[room] = [];
            foreach (Match used in Reference().Matches(code))
            {
                if (used.Groups[1].Value != room)
                {
                    named.Add(used.Groups[1].Value);
                }
            }
        }

        return uses;
    }

    private static IEnumerable<string> Sources(string directory) =>
        Directory.EnumerateFiles(directory, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal));

    [GeneratedRegex(@"//.*")]
    private static partial Regex Comment();

    [GeneratedRegex(@"^namespace ChatStreaming\.Worker\.?(\w*);", RegexOptions.Multiline)]
    private static partial Regex Namespace();

    [GeneratedRegex(@"ChatStreaming\.Worker\.(\w+)[.;]")]
    private static partial Regex Reference();
}
