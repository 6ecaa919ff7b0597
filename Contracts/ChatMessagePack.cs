using System.Buffers;
using System.Text.Json;
using MessagePack;
using MessagePack.Formatters;
using MessagePack.Resolvers;

namespace ChatStreaming.Contracts;

/// <summary>
/// The serializer options of the MessagePack hub protocol for ChatStreaming, on the server and in every .NET client: each
/// argument is the same document as on the JSON protocol — camelCase field names, enums, dates and parts as JSON has them
/// — encoded as MessagePack (maps, arrays, strings, numbers) instead of text. So a client reads the same fields whichever
/// protocol it picked, the JavaScript one (<c>@microsoft/signalr-protocol-msgpack</c>) included, and docs/protocol.md
/// describes one shape. Booleans, numbers, strings and ids are MessagePack's own; every other type is shaped by
/// System.Text.Json's web defaults (what SignalR's JSON protocol uses), then written as MessagePack; chunks, the
/// argument of every delivery, have a formatter of their own that writes the same bytes directly.
/// </summary>
public static partial class ChatMessagePack
{
    /// <summary>For <c>AddMessagePackProtocol(o => o.SerializerOptions = ChatMessagePack.Options)</c>.</summary>
    public static MessagePackSerializerOptions Options { get; } = MessagePackSerializerOptions.Standard
        .WithResolver(CompositeResolver.Create(JsonShapedResolver.Instance, StandardResolver.Instance))
        .WithSecurity(MessagePackSecurity.UntrustedData);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Every type but MessagePack's own scalars goes through <see cref="JsonShapedFormatter{T}"/>.</summary>
    private sealed class JsonShapedResolver : IFormatterResolver
    {
        public static readonly JsonShapedResolver Instance = new();

        public IMessagePackFormatter<T>? GetFormatter<T>() =>
            typeof(T) == typeof(Chunk) ? (IMessagePackFormatter<T>)(object)ChunkFormatter.Instance
            : ChunkListFormatter<T>.Handles ? ChunkListFormatter<T>.Instance
            : IsScalar(typeof(T)) ? null
            : JsonShapedFormatter<T>.Instance;

        private static bool IsScalar(Type type)
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            return type.IsPrimitive || type == typeof(string) || type == typeof(Guid) || type == typeof(byte[]) || type == typeof(decimal);
        }
    }

    private sealed class JsonShapedFormatter<T> : IMessagePackFormatter<T>
    {
        public static readonly JsonShapedFormatter<T> Instance = new();

        public void Serialize(ref MessagePackWriter writer, T value, MessagePackSerializerOptions options)
        {
            using var document = JsonSerializer.SerializeToDocument(value, Json);
            Write(ref writer, document.RootElement);
        }

        public T Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
        {
            var buffer = new ArrayBufferWriter<byte>();
            using (var json = new Utf8JsonWriter(buffer))
            {
                Copy(ref reader, json, options);
            }

            return JsonSerializer.Deserialize<T>(buffer.WrittenSpan, Json)!;
        }

        private static void Write(ref MessagePackWriter writer, JsonElement element)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    var count = 0;
                    foreach (var _ in element.EnumerateObject())
                    {
                        count++;
                    }

                    writer.WriteMapHeader(count);
                    foreach (var property in element.EnumerateObject())
                    {
                        writer.Write(property.Name);
                        Write(ref writer, property.Value);
                    }

                    break;
                case JsonValueKind.Array:
                    writer.WriteArrayHeader(element.GetArrayLength());
                    foreach (var item in element.EnumerateArray())
                    {
                        Write(ref writer, item);
                    }

                    break;
                case JsonValueKind.String:
                    writer.Write(element.GetString());
                    break;
                case JsonValueKind.Number when element.TryGetInt64(out var integer):
                    writer.Write(integer);
                    break;
                case JsonValueKind.Number:
                    writer.Write(element.GetDouble());
                    break;
                case JsonValueKind.True:
                    writer.Write(true);
                    break;
                case JsonValueKind.False:
                    writer.Write(false);
                    break;
                default:
                    writer.WriteNil();
                    break;
            }
        }

        /// <summary>One MessagePack value (and everything in it) as JSON; nesting bounded by the options' security.</summary>
        private static void Copy(ref MessagePackReader reader, Utf8JsonWriter json, MessagePackSerializerOptions options)
        {
            options.Security.DepthStep(ref reader);
            try
            {
                switch (reader.NextMessagePackType)
                {
                    case MessagePackType.Nil:
                        reader.ReadNil();
                        json.WriteNullValue();
                        break;
                    case MessagePackType.Boolean:
                        json.WriteBooleanValue(reader.ReadBoolean());
                        break;
                    case MessagePackType.Integer when reader.NextCode == MessagePackCode.UInt64:
                        json.WriteNumberValue(reader.ReadUInt64());
                        break;
                    case MessagePackType.Integer:
                        json.WriteNumberValue(reader.ReadInt64());
                        break;
                    case MessagePackType.Float:
                        json.WriteNumberValue(reader.ReadDouble());
                        break;
                    case MessagePackType.String:
                        json.WriteStringValue(reader.ReadString());
                        break;
                    case MessagePackType.Binary:
                        json.WriteBase64StringValue(reader.ReadBytes()!.Value.ToArray());
                        break;
                    case MessagePackType.Array:
                        var items = reader.ReadArrayHeader();
                        json.WriteStartArray();
                        for (var i = 0; i < items; i++)
                        {
                            Copy(ref reader, json, options);
                        }

                        json.WriteEndArray();
                        break;
                    case MessagePackType.Map:
                        var entries = reader.ReadMapHeader();
                        json.WriteStartObject();
                        for (var i = 0; i < entries; i++)
                        {
                            json.WritePropertyName(reader.NextMessagePackType == MessagePackType.String ? reader.ReadString()! : throw new MessagePackSerializationException("a map key is not a string"));
                            Copy(ref reader, json, options);
                        }

                        json.WriteEndObject();
                        break;
                    case MessagePackType.Extension when reader.NextCode is MessagePackCode.FixExt4 or MessagePackCode.FixExt8 or MessagePackCode.Ext8:
                        json.WriteStringValue(reader.ReadDateTime()); // a timestamp (the only extension a client sends)
                        break;
                    default:
                        throw new MessagePackSerializationException($"unexpected MessagePack {reader.NextMessagePackType}");
                }
            }
            finally
            {
                reader.Depth--;
            }
        }
    }
}
