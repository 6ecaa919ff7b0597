using System.Diagnostics.Tracing;
using System.Globalization;

/// <summary>
/// Loaded by the runtime before Main when DOTNET_STARTUP_HOOKS names this assembly (the runtime looks for this class
/// name in no namespace). With GC_PAUSES_DIR set, writes one line per garbage collection to
/// GC_PAUSES_DIR/PROGRAM-ARGUMENT-PID.txt: "START_MS PAUSE_MS gen N promoted KB": when the runtime began to suspend
/// the process (Unix ms), how long until it resumed, the generation collected and the bytes it promoted (survivors).
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
            listener = new GcPauseListener(Path.Combine(directory, $"{name}-{Environment.ProcessId}.txt"));
        }
    }
}

/// <summary>The runtime's GC events (keyword 0x1), in process: suspension begins, the collection, the restart ends.</summary>
internal sealed class GcPauseListener(string path) : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private static readonly string[] Promoted = ["TotalPromotedSize0", "TotalPromotedSize1", "TotalPromotedSize2", "TotalPromotedSize3"];
    private readonly StreamWriter output = new(path) { AutoFlush = true };
    private double suspending;
    private object? generation;
    private long promotedBytes;

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Informational, GcKeyword);
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
            case "GCStart_V2":
                generation = e.Payload![1];
                break;
            case "GCHeapStats_V2":
                promotedBytes = Promoted.Sum(name => Convert.ToInt64(e.Payload![e.PayloadNames!.IndexOf(name)], CultureInfo.InvariantCulture));
                break;
            case "GCRestartEEEnd_V1":
                lock (output)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{suspending:0.0} {at - suspending:0.00} gen {generation} promoted {promotedBytes / 1024}"));
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
