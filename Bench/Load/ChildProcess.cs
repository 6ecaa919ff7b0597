using System.Diagnostics;

namespace ChatStreaming.Bench.Load;

/// <summary>A server process the benchmark starts (a hub or a baseline server) and stops.</summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process process;

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

        var process = Process.Start(info)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null && output.Count < 200) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null && output.Count < 200) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
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
                    return new ChildProcess(process);
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
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }
}
