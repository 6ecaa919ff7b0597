using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>A process the tests start and own: output captured, killed on dispose.</summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly ConcurrentQueue<string> output = new();

    private ChildProcess(Process process)
    {
        this.process = process;
    }

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    public IReadOnlyCollection<string> Output => output;

    /// <summary>
    /// Every line of a process that has exited, its last ones included: <see cref="HasExited"/> turns true before the
    /// output events have all been raised.
    /// </summary>
    public IReadOnlyCollection<string> OutputOnceExited()
    {
        process.WaitForExit();
        return output;
    }

    /// <param name="input">Keep standard input open for <see cref="WriteLineAsync"/> (a REPL); otherwise it is inherited.</param>
    /// <summary>Runs a command to its end (at most <paramref name="timeout"/>, default 4 minutes); fails the test with its last output lines unless it exits 0.</summary>
    public static async Task RunToSuccessAsync(string fileName, IEnumerable<string> arguments, IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var argumentList = arguments.ToList();
        await using var process = Start(fileName, argumentList, environment);
        await process.WaitForExitAsync(new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(4)).Token);
        Xunit.Assert.True(process.ExitCode == 0, $"{fileName} {string.Join(' ', argumentList)}:\n{string.Join('\n', process.Output.TakeLast(40))}");
    }

    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, IDictionary<string, string>? environment = null, string? user = null, bool input = false)
    {
        var info = new ProcessStartInfo
        {
            FileName = user is null ? fileName : "runuser",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input,
            UseShellExecute = false,
        };
        if (user is not null)
        {
            info.ArgumentList.Add("-u");
            info.ArgumentList.Add(user);
            info.ArgumentList.Add("--");
            info.ArgumentList.Add(fileName);
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {fileName}");
        var child = new ChildProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) child.output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) child.output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs a command to its end; throws with its output when it fails.</summary>
    public static async Task<string> RunAsync(string fileName, IEnumerable<string> arguments, string? user = null, TimeSpan? timeout = null)
    {
        await using var child = Start(fileName, arguments, user: user);
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        await child.WaitForExitAsync(cts.Token);
        var text = string.Join('\n', child.output);
        return child.ExitCode == 0 ? text : throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} exited {child.ExitCode}:\n{text}");
    }

    /// <summary>Waits for the process to exit and for every line it wrote to be in <see cref="Output"/>.</summary>
    public async Task WaitForExitAsync(CancellationToken cancellationToken)
    {
        await process.WaitForExitAsync(cancellationToken);
        process.WaitForExit(); // returns once the output events have all been raised: nothing left to drain
    }

    /// <summary>The exit code, once the process exited (within <paramref name="timeout"/>, 30 s by default) and its output is all read.</summary>
    public async Task<int> ExitCodeAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        await WaitForExitAsync(cts.Token);
        return process.ExitCode;
    }

    /// <summary>Types a line into the process (started with <c>input: true</c>).</summary>
    public async Task WriteLineAsync(string line)
    {
        await process.StandardInput.WriteLineAsync(line);
        await process.StandardInput.FlushAsync();
    }

    /// <summary>
    /// Sends <paramref name="signal"/> if the process still runs: an exited child's id is free for the next process (ids
    /// wrap at <c>pid_max</c>, 32768 here, within a suite's run), which must not get a signal meant for this one.
    /// </summary>
    public void Signal(int signal)
    {
        if (!process.HasExited)
        {
            _ = Kill(process.Id, signal);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
