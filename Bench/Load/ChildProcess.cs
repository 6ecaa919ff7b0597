using System.Diagnostics;

namespace ChatStreaming.Bench.Load;

/// <summary>A server process the benchmark starts (a hub or a baseline server) and stops.</summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    /// <summary>Where each server's whole output goes, one file per port (relative to the repository, where bench.sh runs).</summary>
    public static readonly string LogDirectory = Path.Combine(".data", "bench-logs");

    /// <summary>Lines of a server's output kept (the last ones): what is printed when it fails to start or dies.</summary>
    private const int KeptLines = 200;

    private readonly Process process;
    private volatile bool stopping;

    private ChildProcess(Process process) => this.process = process;

    public int Id => process.Id;

    /// <summary>A .NET server of the solution (<c>dotnet</c> with the arguments).</summary>
    public static Task<ChildProcess> StartAsync(IReadOnlyList<string> arguments, IDictionary<string, string> environment, string readyUrl, CancellationToken cancellationToken) =>
        StartAsync("dotnet", arguments, environment, readyUrl, cancellationToken);

    public static async Task<ChildProcess> StartAsync(string fileName, IReadOnlyList<string> arguments, IDictionary<string, string> environment, string readyUrl, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(fileName) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        // All of it in .data/bench-logs/server-PORT.log (a server logs warnings and errors only: little).
        Directory.CreateDirectory(LogDirectory);
        var logPath = Path.Combine(LogDirectory, $"server-{new Uri(readyUrl).Port}.log");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var logClosed = false; // guarded by log
        void Keep(string? line)
        {
            if (line is not null)
            {
                lock (log)
                {
                    if (!logClosed)
                    {
                        log.WriteLine(line);
                    }
                }

                output.Enqueue(line);
                while (output.Count > KeptLines && output.TryDequeue(out _))
                {
                }
            }
        }

        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        ChildProcess? started = null;
        process.Exited += (_, _) =>
        {
            process.WaitForExit(); // the output read to its end
            lock (log)
            {
                logClosed = true;
                log.Dispose();
            }

            if (started is { stopping: false })
            {
                // A server that dies during a run is a finding, not noise: say so where the run's log is read.
                Console.Error.WriteLine($"\n  !! {string.Join(' ', arguments)} exited during the run with code {process.ExitCode} (all its output: {logPath}); its last output:\n{string.Join('\n', output)}");
            }
        };
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{string.Join(' ', arguments)} exited {process.ExitCode}:\n{string.Join('\n', output)}");
            }

            try
            {
                if ((await http.GetAsync(readyUrl, cancellationToken)).IsSuccessStatusCode)
                {
                    return started = new ChildProcess(process);
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            await Task.Delay(200, cancellationToken);
        }

        process.Kill(entireProcessTree: true);
        throw new TimeoutException($"{readyUrl} was not ready within 60 s:\n{string.Join('\n', output)}");
    }

    public async ValueTask DisposeAsync()
    {
        stopping = true;
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }
}
