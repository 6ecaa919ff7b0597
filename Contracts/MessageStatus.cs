using System.Text.Json.Serialization;

namespace ChatStreaming.Contracts;

/// <summary>Where a message is in its life. Only <see cref="Streaming"/> is not final.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<MessageStatus>))]
public enum MessageStatus
{
    [JsonStringEnumMemberName("streaming")] Streaming,
    [JsonStringEnumMemberName("completed")] Completed,
    [JsonStringEnumMemberName("cancelled")] Cancelled,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("interrupted")] Interrupted,
}
