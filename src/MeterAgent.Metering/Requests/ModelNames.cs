using System.Text;

namespace MeterAgent.Metering.Requests;

/// <summary>
/// Model names as strings without a new string for every request and response: a provider serves a handful of models,
/// so the same few names arrive again and again. A direct-mapped cache of <see cref="Slots"/> strings, each slot
/// keeping the last name that hashed to it: any number of distinct names (a client may send anything) costs at most
/// that many strings, and a name the cache does not hold is decoded as it would be without it.
/// </summary>
internal static class ModelNames
{
    /// <summary>Slots in the cache (a power of two).</summary>
    internal const int Slots = 256;

    /// <summary>Longer names are decoded without the cache: no real model name is this long.</summary>
    internal const int MaxCachedBytes = 128;

    private static readonly string?[] Cache = new string?[Slots];

    /// <summary>The name whose UTF-8 bytes (unescaped) are <paramref name="utf8"/>.</summary>
    public static string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxCachedBytes)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        var hash = new HashCode();
        hash.AddBytes(utf8);
        var slot = hash.ToHashCode() & (Slots - 1);

        // One read of the slot: another thread may replace it meanwhile, and a string reference is read whole.
        var cached = Volatile.Read(ref Cache[slot]);
        if (cached is not null && System.Text.Ascii.Equals(utf8, cached))
        {
            return cached;
        }

        var name = Encoding.UTF8.GetString(utf8);
        Volatile.Write(ref Cache[slot], name);
        return name;
    }
}
