using System.Text.Json.Serialization;

namespace ChatStreaming.Contracts;

/// <summary>Who wrote a message. Serialized as "user" / "assistant".</summary>
[JsonConverter(typeof(JsonStringEnumConverter<MessageRole>))]
public enum MessageRole
{
    [JsonStringEnumMemberName("user")] User,
    [JsonStringEnumMemberName("assistant")] Assistant,
}
