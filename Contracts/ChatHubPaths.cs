namespace ChatStreaming.Contracts;

/// <summary>Routes of the public wire contract.</summary>
public static class ChatHubPaths
{
    public const string Hub = "/hubs/chat";

    /// <summary>
    /// The query parameter (<c>/hubs/chat?chunkBatches=true</c>) by which a client says it handles
    /// <see cref="IChatHubClient.ReceiveChunks"/>: a connection whose queue backs up then gets its waiting chunks in one frame.
    /// </summary>
    public const string ChunkBatchesParameter = "chunkBatches";
    public const string DevToken = "/api/auth/dev-token";
    public const string Conversations = "/api/conversations";
    public const string Search = "/api/search";
    public const string Models = "/api/models";
    public const string Usage = "/api/usage";

    /// <summary>What the browser apps may load (<see cref="ClientSettings"/>); anonymous.</summary>
    public const string ClientSettings = "/api/client-settings";
    public const string HealthLive = "/health/live";
    public const string HealthReady = "/health/ready";
}
