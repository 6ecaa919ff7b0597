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

        /// <summary>The fields as System.Text.Json names them, in its order (the record's).</summary>
        private static readonly byte[][] FieldNames =
            [.. new[] { "conversationId", "messageId", "sequence", "delta", "emittedAt", "kind", "part" }.Select(Encoding.UTF8.GetBytes)];

        public void Serialize(ref MessagePackWriter writer, Chunk value, MessagePackSerializerOptions options)
        {
            if (value is null)
            {
                writer.WriteNil();
                return;
            }

            writer.WriteMapHeader(value.Part is null ? 6 : 7);
            writer.WriteString(FieldNames[0]);
            WriteGuid(ref writer, value.ConversationId);
            writer.WriteString(FieldNames[1]);
            WriteGuid(ref writer, value.MessageId);
            writer.WriteString(FieldNames[2]);
            writer.Write(value.Sequence);
            writer.WriteString(FieldNames[3]);
            writer.Write(value.Delta);
            writer.WriteString(FieldNames[4]);
            WriteNumber(ref writer, value.EmittedAt);
            writer.WriteString(FieldNames[5]);
            writer.Write(value.Kind);
            if (value.Part is not null)
            {
                writer.WriteString(FieldNames[6]);
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
                            sequence = reader.ReadInt64();
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

        /// <summary>The index in <see cref="FieldNames"/> of the next map key (case-insensitive, as on JSON), or -1.</summary>
        private static int ReadField(ref MessagePackReader reader)
        {
            ReadOnlySpan<byte> name = reader.TryReadStringSpan(out var span) ? span : reader.ReadStringSequence() is { } sequence ? sequence.ToArray() : [];
            for (var i = 0; i < FieldNames.Length; i++)
            {
                if (Ascii.EqualsIgnoreCase(name, FieldNames[i]))
                {
                    return i;
                }
            }

            return -1;
        }

        private static void WriteGuid(ref MessagePackWriter writer, Guid value)
        {
            writer.WriteStringHeader(36); // "D": 32 hex digits and 4 hyphens
            value.TryFormat(writer.GetSpan(36), out _, "D");
            writer.Advance(36);
        }

        private static Guid ReadGuid(ref MessagePackReader reader) => Guid.Parse(reader.ReadString()!);

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
