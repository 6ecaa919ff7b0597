using System.Diagnostics.Tracing;
using System.Globalization;

/// <summary>
/// Loaded by the runtime before Main when DOTNET_STARTUP_HOOKS names this assembly (the runtime looks for this class
/// name in no namespace). With GC_PAUSES_DIR set, writes one line per garbage collection to
/// GC_PAUSES_DIR/PROGRAM-ARGUMENT-PID.txt: "START_MS PAUSE_MS gen N promoted KB suspend MS": when the runtime began to
/// suspend the process (Unix ms), how long until it resumed, the generation collected, the bytes it promoted (survivors)
/// and how much of the pause was the suspension itself (every thread brought to a safe point, before the collection).
/// With GC_ALLOCATIONS=1 also, beside it, PROGRAM-ARGUMENT-PID.alloc: what was allocated since the process started, by
/// type, from the runtime's allocation samples (one about every 100 KB), rewritten every hundred samples. That needs the
/// GC events' verbose level, which costs the process some CPU: off unless asked.
/// </summary>
internal static class StartupHook
{
    private static GcPauseListener? listener;

    public static void Initialize()
    {
        if (Environment.GetEnvironmentVariable("GC_PAUSES_DIR") is { Length: > 0 } directory)
        {
            var args = Environment.GetCommandLineArgs();
            var name = string.Join('-', args.Take(2).Select(a => Path.GetFileNameWithoutExtension(a)));
            listener = new GcPauseListener(Path.Combine(directory, $"{name}-{Environment.ProcessId}"));
        }
    }
}

/// <summary>
/// The runtime's GC events (keyword 0x1; verbose: with the allocation samples), in process: suspension begins, the
/// collection, the restart ends.
/// </summary>
internal sealed class GcPauseListener(string path) : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private static readonly string[] Promoted = ["TotalPromotedSize0", "TotalPromotedSize1", "TotalPromotedSize2", "TotalPromotedSize3"];
    private readonly StreamWriter output = new(path + ".txt") { AutoFlush = true };
    private readonly Dictionary<string, long> allocated = [];
    private long samples;
    private double suspending;
    private double suspended;
    private object? generation;
    private long promotedBytes;

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, Environment.GetEnvironmentVariable("GC_ALLOCATIONS") == "1" ? EventLevel.Verbose : EventLevel.Informational, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        var at = (e.TimeStamp.ToUniversalTime() - DateTime.UnixEpoch).TotalMilliseconds;
        switch (e.EventName)
        {
            case "GCSuspendEEBegin_V1":
                suspending = at;
                break;
            case "GCSuspendEEEnd_V1":
                suspended = at - suspending;
                break;
            case "GCStart_V2":
                generation = e.Payload![e.PayloadNames!.IndexOf("Depth")];
                break;
            case "GCHeapStats_V2":
                promotedBytes = Promoted.Sum(name => Convert.ToInt64(e.Payload![e.PayloadNames!.IndexOf(name)], CultureInfo.InvariantCulture));
                break;
            case "GCAllocationTick_V4":
                var type = e.Payload![e.PayloadNames!.IndexOf("TypeName")] as string ?? "?";
                lock (allocated)
                {
                    allocated[type] = allocated.GetValueOrDefault(type) + Convert.ToInt64(e.Payload[e.PayloadNames.IndexOf("AllocationAmount64")], CultureInfo.InvariantCulture);
                    if (++samples % 100 == 0)
                    {
                        var total = allocated.Values.Sum();
                        File.WriteAllLines(path + ".alloc", allocated.OrderByDescending(a => a.Value).Take(30)
                            .Select(a => string.Create(CultureInfo.InvariantCulture, $"{a.Value / 1024} {100.0 * a.Value / total:0.0} {a.Key}"))
                            .Prepend(string.Create(CultureInfo.InvariantCulture, $"# KB % type; {total / 1024} KB sampled")));
                    }
                }

                break;
            case "GCRestartEEEnd_V1":
                lock (output)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{suspending:0.0} {at - suspending:0.00} gen {generation} promoted {promotedBytes / 1024} suspend {suspended:0.00}"));
                }

                break;
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        output.Dispose();
    }
}
