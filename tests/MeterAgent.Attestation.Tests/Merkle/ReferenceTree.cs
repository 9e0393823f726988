using System.Security.Cryptography;

namespace MeterAgent.Attestation.Tests.Merkle;

/// <summary>
/// RFC 9162 §2.1 written as the RFC states it (recursion over byte arrays, no store, no bit tricks), to check the
/// production code against an independent reading of the same text.
/// </summary>
internal static class ReferenceTree
{
    public static byte[] Mth(IReadOnlyList<byte[]> entries) => Mth(entries, 0, entries.Count);

    public static byte[] Mth(IReadOnlyList<byte[]> entries, int lo, int hi)
    {
        var n = hi - lo;
        if (n == 0)
        {
            return SHA256.HashData(ReadOnlySpan<byte>.Empty);
        }

        if (n == 1)
        {
            return SHA256.HashData([0x00, .. entries[lo]]);
        }

        var k = 1;
        while (k * 2 < n)
        {
            k *= 2;
        }

        return SHA256.HashData([0x01, .. Mth(entries, lo, lo + k), .. Mth(entries, lo + k, hi)]);
    }

    public static List<byte[]> Path(int m, IReadOnlyList<byte[]> entries, int lo, int hi)
    {
        var n = hi - lo;
        if (n == 1)
        {
            return [];
        }

        var k = 1;
        while (k * 2 < n)
        {
            k *= 2;
        }

        if (m < k)
        {
            return [.. Path(m, entries, lo, lo + k), Mth(entries, lo + k, hi)];
        }

        return [.. Path(m - k, entries, lo + k, hi), Mth(entries, lo, lo + k)];
    }

    public static List<byte[]> SubProof(int m, IReadOnlyList<byte[]> entries, int lo, int hi, bool b)
    {
        var n = hi - lo;
        if (m == n)
        {
            return b ? [] : [Mth(entries, lo, hi)];
        }

        var k = 1;
        while (k * 2 < n)
        {
            k *= 2;
        }

        if (m <= k)
        {
            return [.. SubProof(m, entries, lo, lo + k, b), Mth(entries, lo + k, hi)];
        }

        return [.. SubProof(m - k, entries, lo + k, hi, false), Mth(entries, lo, lo + k)];
    }
}
