namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>The POSIX signals the tests send to the processes they run (Linux numbers).</summary>
internal static class Signals
{
    /// <summary>SIGINT: Ctrl+C in a terminal.</summary>
    public const int Interrupt = 2;

    /// <summary>SIGKILL: the process dies at once, nothing runs after it.</summary>
    public const int Kill = 9;

    /// <summary>SIGTERM: a graceful stop (what an orchestrator sends first).</summary>
    public const int Terminate = 15;

    /// <summary>SIGCONT: a stopped process runs again.</summary>
    public const int Continue = 18;

    /// <summary>SIGSTOP: the process is frozen (cannot be caught), as a stuck or paused server.</summary>
    public const int Stop = 19;
}
