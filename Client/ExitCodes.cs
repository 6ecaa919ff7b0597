using ChatStreaming.Contracts;

namespace ChatStreaming.Client;

internal static class ExitCodes
{
    public const int Completed = 0;
    public const int Error = 1;

    /// <summary>3 cancelled, 4 failed, 5 interrupted: scripts can tell how the answer ended.</summary>
    public static int For(MessageStatus status) => status switch
    {
        MessageStatus.Completed => Completed,
        MessageStatus.Cancelled => 3,
        MessageStatus.Failed => 4,
        MessageStatus.Interrupted => 5,
        _ => Error,
    };
}
