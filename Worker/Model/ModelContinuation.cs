using System.Buffers.Binary;
using System.Text;

namespace ChatStreaming.Worker.Model;

/// <summary>
/// A resumable model's continuation as the replay buffer keeps it with a chunk: the provider's continuation token (where
/// the background response's stream goes on after the chunk) and that response's id, so whoever ends the answer — its
/// owner, or the instance that swept it as an orphan — can cancel the response at the provider.
/// Layout: a version byte (1), the id's UTF-8 length (2 bytes, big-endian; 0 when the provider gave none), the id, then
/// the token's bytes. Buffers written before the id was kept hold the token alone (Microsoft.Extensions.AI writes a JSON
/// text, never starting with byte 1): read as a token without an id.
/// </summary>
internal static class ModelContinuation
{
    private const byte Version = 1;

    public static byte[] Encode(string? responseId, ReadOnlySpan<byte> token)
    {
        var idLength = responseId is null ? 0 : Encoding.UTF8.GetByteCount(responseId);
        if (idLength > ushort.MaxValue)
        {
            (responseId, idLength) = (null, 0); // no provider's id is that long: keep the token, resumable, without it
        }

        var bytes = new byte[3 + idLength + token.Length];
        bytes[0] = Version;
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(1), (ushort)idLength);
        if (responseId is not null)
        {
            Encoding.UTF8.GetBytes(responseId, bytes.AsSpan(3));
        }

        token.CopyTo(bytes.AsSpan(3 + idLength));
        return bytes;
    }

    /// <summary>The provider's continuation token.</summary>
    public static ReadOnlyMemory<byte> TokenOf(byte[] continuation) =>
        IsVersioned(continuation) ? continuation.AsMemory(3 + IdLength(continuation)) : continuation;

    /// <summary>The id of the background response the token belongs to; null when it was not kept.</summary>
    public static string? ResponseIdOf(byte[] continuation) =>
        IsVersioned(continuation) && IdLength(continuation) is > 0 and var length ? Encoding.UTF8.GetString(continuation, 3, length) : null;

    private static bool IsVersioned(byte[] continuation) =>
        continuation.Length >= 3 && continuation[0] == Version && 3 + IdLength(continuation) <= continuation.Length;

    private static int IdLength(byte[] continuation) => BinaryPrimitives.ReadUInt16BigEndian(continuation.AsSpan(1));
}
