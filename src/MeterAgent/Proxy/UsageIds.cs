using System.Buffers.Binary;
using System.Security.Cryptography;

namespace MeterAgent.Proxy;

/// <summary>
/// A request's usage id: a UUIDv7 (RFC 9562: 48 bits of Unix milliseconds, then 74 random bits), as 32 hex digits, the
/// layout <see cref="Guid.CreateVersion7()"/> gives. Its random bits come from a per-thread buffer filled by
/// <see cref="RandomNumberGenerator"/> 400 ids at a time: <see cref="Guid.CreateVersion7()"/> reads
/// <c>/dev/urandom</c> once per id, a system call on every request (docs/benchmarks.md).
/// </summary>
internal static class UsageIds
{
    private const int RandomBytesPerId = 10;
    private const int BufferBytes = 400 * RandomBytesPerId;

    [ThreadStatic]
    private static byte[]? t_random;

    [ThreadStatic]
    private static int t_used;

    public static string Next() => NextGuid(DateTimeOffset.UtcNow).ToString("N");

    internal static Guid NextGuid(DateTimeOffset now)
    {
        var random = t_random;
        var used = t_used;
        if (random is null || used == BufferBytes)
        {
            random = t_random ??= new byte[BufferBytes];
            RandomNumberGenerator.Fill(random);
            used = 0;
        }

        // Each buffered byte is used once: the next id on this thread starts past it.
        t_used = used + RandomBytesPerId;

        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteInt64BigEndian(bytes, now.ToUnixTimeMilliseconds() << 16);
        random.AsSpan(used, RandomBytesPerId).CopyTo(bytes[6..]);
        bytes[6] = (byte)(0x70 | (bytes[6] & 0x0F));
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F));
        return new Guid(bytes, bigEndian: true);
    }
}
