using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using MessagePack;
using MessagePack.Formatters;

namespace ChatStreaming.Contracts;

/// <summary>The formatters of <see cref="Chunk"/> and chunk lists: what every delivery serializes.</summary>
public static partial class ChatMessagePack
{
    /// <summary>
    /// A chunk — the one argument sent per delivery — written and read field by field: the bytes the JSON-shaped path
    /// gives (same names, order and number types; tested), without building a JSON document per chunk.
    /// </summary>
    private sealed class ChunkFormatter : IMessagePackFormatter<Chunk>
    {
        public static readonly ChunkFormatter Instance = new();

        public void Serialize(ref MessagePackWriter writer, Chunk value, MessagePackSerializerOptions options)
        {
            if (value is null)
            {
                writer.WriteNil();
                return;
            }

            writer.WriteMapHeader(value.Part is null ? 6 : 7);
            writer.WriteString("conversationId"u8);
            WriteGuid(ref writer, value.ConversationId);
            writer.WriteString("messageId"u8);
            WriteGuid(ref writer, value.MessageId);
            writer.WriteString("sequence"u8);
            writer.Write(value.Sequence);
            writer.WriteString("delta"u8);
            writer.Write(value.Delta);
            writer.WriteString("emittedAt"u8);
            WriteNumber(ref writer, value.EmittedAt);
            writer.WriteString("kind"u8);
            writer.Write(value.Kind);
            if (value.Part is not null)
            {
                writer.WriteString("part"u8);
                writer.Write(value.Part);
            }
        }

        public Chunk Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
        {
            if (reader.TryReadNil())
            {
                return null!;
            }

            options.Security.DepthStep(ref reader);
            try
            {
                Guid conversationId = default, messageId = default;
                long sequence = 0;
                double emittedAt = 0;
                string? delta = null, part = null;
                var kind = ChunkKinds.Text;
                var entries = reader.ReadMapHeader();
                for (var i = 0; i < entries; i++)
                {
                    switch (ReadField(ref reader))
                    {
                        case 0:
                            conversationId = ReadGuid(ref reader);
                            break;
                        case 1:
                            messageId = ReadGuid(ref reader);
                            break;
                        case 2:
                            sequence = reader.NextMessagePackType == MessagePackType.Float ? checked((long)reader.ReadDouble()) : reader.ReadInt64();
                            break;
                        case 3:
                            delta = reader.ReadString();
                            break;
                        case 4:
                            emittedAt = reader.ReadDouble();
                            break;
                        case 5:
                            kind = reader.ReadString()!;
                            break;
                        case 6:
                            part = reader.ReadString();
                            break;
                        default:
                            reader.Skip();
                            break;
                    }
                }

                return new Chunk(conversationId, messageId, sequence, delta!, emittedAt, kind, part);
            }
            finally
            {
                reader.Depth--;
            }
        }

        /// <summary>
        /// The index of the next map key in <see cref="Serialize"/>'s order, or -1; matched as System.Text.Json's web
        /// defaults match names (case-insensitive).
        /// </summary>
        private static int ReadField(ref MessagePackReader reader)
        {
            ReadOnlySpan<byte> name = reader.TryReadStringSpan(out var span) ? span : reader.ReadStringSequence() is { } sequence ? sequence.ToArray() : [];
            return name.Length switch
            {
                14 when Ascii.EqualsIgnoreCase(name, "conversationId"u8) => 0,
                9 when Ascii.EqualsIgnoreCase(name, "messageId"u8) => 1,
                8 when Ascii.EqualsIgnoreCase(name, "sequence"u8) => 2,
                5 when Ascii.EqualsIgnoreCase(name, "delta"u8) => 3,
                9 when Ascii.EqualsIgnoreCase(name, "emittedAt"u8) => 4,
                4 when Ascii.EqualsIgnoreCase(name, "kind"u8) => 5,
                4 when Ascii.EqualsIgnoreCase(name, "part"u8) => 6,
                _ => -1,
            };
        }

        private static void WriteGuid(ref MessagePackWriter writer, Guid value)
        {
            writer.WriteStringHeader(36); // "D": 32 hex digits and 4 hyphens
            value.TryFormat(writer.GetSpan(36), out _, "D");
            writer.Advance(36);
        }

        private static Guid ReadGuid(ref MessagePackReader reader) =>
            reader.TryReadNil() ? default : Guid.Parse(reader.ReadString()!);

        /// <summary>As the JSON-shaped path: a number whose JSON text is an integer is a MessagePack integer.</summary>
        private static void WriteNumber(ref MessagePackWriter writer, double value)
        {
            Span<byte> text = stackalloc byte[32];
            if (value.TryFormat(text, out var length, provider: CultureInfo.InvariantCulture)
                && Utf8Parser.TryParse(text[..length], out long integer, out var consumed) && consumed == length)
            {
                writer.Write(integer);
            }
            else
            {
                writer.Write(value);
            }
        }
    }

    /// <summary>Chunks in one frame (<c>ReceiveChunks</c>, <c>GetChunks</c>), as whichever list type is asked for.</summary>
    private sealed class ChunkListFormatter<T> : IMessagePackFormatter<T>
    {
        public static readonly bool Handles = typeof(T) == typeof(Chunk[]) || typeof(T) == typeof(List<Chunk>)
            || (typeof(T).IsInterface && typeof(T).IsAssignableFrom(typeof(Chunk[])) && typeof(IEnumerable<Chunk>).IsAssignableFrom(typeof(T)));

        public static readonly ChunkListFormatter<T> Instance = new();

        public void Serialize(ref MessagePackWriter writer, T value, MessagePackSerializerOptions options)
        {
            if (value is not IEnumerable<Chunk> chunks)
            {
                writer.WriteNil();
                return;
            }

            var list = chunks as IReadOnlyList<Chunk> ?? chunks.ToArray();
            writer.WriteArrayHeader(list.Count);
            for (var i = 0; i < list.Count; i++)
            {
                ChunkFormatter.Instance.Serialize(ref writer, list[i], options);
            }
        }

        public T Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
        {
            if (reader.TryReadNil())
            {
                return default!;
            }

            var chunks = new Chunk[reader.ReadArrayHeader()];
            for (var i = 0; i < chunks.Length; i++)
            {
                chunks[i] = ChunkFormatter.Instance.Deserialize(ref reader, options);
            }

            return typeof(T) == typeof(List<Chunk>) ? (T)(object)chunks.ToList() : (T)(object)chunks;
        }
    }
}
