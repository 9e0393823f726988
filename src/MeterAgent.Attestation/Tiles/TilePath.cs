using System.Globalization;

namespace MeterAgent.Attestation.Tiles;

/// <summary>
/// Resource paths of C2SP tlog-tiles, relative to the log's prefix: <c>tile/&lt;L&gt;/&lt;N&gt;[.p/&lt;W&gt;]</c> and
/// <c>tile/entries/&lt;N&gt;[.p/&lt;W&gt;]</c>. N is written in zero-padded three-digit groups, all but the last prefixed
/// with <c>x</c> (1234067 → <c>x001/x234/067</c>), so no directory is ever also a file on disk.
/// </summary>
public static class TilePath
{
    private const string TilePrefix = "tile/";
    private const string EntriesPrefix = "tile/entries/";
    private const string PartialMarker = ".p/";

    // long.MaxValue has 19 digits: seven groups.
    private const int MaxGroups = 7;

    public static string Tile(TileCoordinate tile)
    {
        Span<char> prefix = stackalloc char[TilePrefix.Length + 3];
        TilePrefix.CopyTo(prefix);
        tile.Level.TryFormat(prefix[TilePrefix.Length..], out var written, provider: CultureInfo.InvariantCulture);
        prefix[TilePrefix.Length + written] = '/';
        return Format(prefix[..(TilePrefix.Length + written + 1)], tile);
    }

    /// <summary>The entry bundle whose entries hash to the level-0 tile <paramref name="tile"/>.</summary>
    public static string EntryBundle(TileCoordinate tile)
    {
        if (tile.Level != 0)
        {
            throw new ArgumentException("Entry bundles pair with level-0 tiles.", nameof(tile));
        }

        return Format(EntriesPrefix, tile);
    }

    /// <summary>Reads a hash tile path; only the canonical spelling is accepted, so one tile has one path.</summary>
    public static bool TryParseTile(ReadOnlySpan<char> path, out TileCoordinate tile)
    {
        tile = default;
        if (!path.StartsWith(TilePrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = path[TilePrefix.Length..];
        var slash = rest.IndexOf('/');
        if (slash < 0 || !TryParseSmall(rest[..slash], TileLayout.MaxLevel, out var level))
        {
            return false;
        }

        return TryParseIndexAndWidth(rest[(slash + 1)..], level, out tile);
    }

    /// <summary>Reads an entry bundle path into its level-0 tile coordinate.</summary>
    public static bool TryParseEntryBundle(ReadOnlySpan<char> path, out TileCoordinate tile)
    {
        tile = default;
        return path.StartsWith(EntriesPrefix, StringComparison.Ordinal)
            && TryParseIndexAndWidth(path[EntriesPrefix.Length..], 0, out tile);
    }

    private static string Format(ReadOnlySpan<char> prefix, TileCoordinate tile)
    {
        Span<char> buffer = stackalloc char[64];
        prefix.CopyTo(buffer);
        var length = prefix.Length;
        length += WriteIndex(tile.Index, buffer[length..]);
        if (tile.IsPartial)
        {
            PartialMarker.CopyTo(buffer[length..]);
            length += PartialMarker.Length;
            tile.Width.TryFormat(buffer[length..], out var written, provider: CultureInfo.InvariantCulture);
            length += written;
        }

        return new string(buffer[..length]);
    }

    private static int WriteIndex(long index, Span<char> destination)
    {
        var groups = 1;
        for (var rest = index / 1000; rest != 0; rest /= 1000)
        {
            groups++;
        }

        var length = (groups * 5) - 2;
        var position = length;
        for (var group = 0; group < groups; group++)
        {
            var digits = index % 1000;
            index /= 1000;
            for (var i = 0; i < 3; i++)
            {
                destination[--position] = (char)('0' + (digits % 10));
                digits /= 10;
            }

            if (group != 0)
            {
                destination[--position] = 'x';
            }

            if (group != groups - 1)
            {
                destination[--position] = '/';
            }
        }

        return length;
    }

    private static bool TryParseIndexAndWidth(ReadOnlySpan<char> text, int level, out TileCoordinate tile)
    {
        tile = default;
        var width = TileLayout.Width;
        var marker = text.IndexOf(PartialMarker, StringComparison.Ordinal);
        if (marker >= 0)
        {
            if (!TryParseSmall(text[(marker + PartialMarker.Length)..], TileLayout.Width - 1, out width) || width == 0)
            {
                return false;
            }

            text = text[..marker];
        }

        long index = 0;
        var groups = 0;
        while (true)
        {
            var last = text.Length == 3;
            if (!last && (text.Length < 5 || text[0] != 'x' || text[4] != '/'))
            {
                return false;
            }

            var digits = last ? text : text[1..4];
            if (digits.ContainsAnyExceptInRange('0', '9') || ++groups > MaxGroups)
            {
                return false;
            }

            var value = ((digits[0] - '0') * 100) + ((digits[1] - '0') * 10) + (digits[2] - '0');
            // A leading all-zero group would be a second spelling of the same index.
            if (groups == 1 && !last && value == 0)
            {
                return false;
            }

            if (index > (long.MaxValue - value) / 1000)
            {
                return false;
            }

            index = (index * 1000) + value;
            if (last)
            {
                break;
            }

            text = text[5..];
        }

        tile = new TileCoordinate(level, index, width);
        return true;
    }

    /// <summary>A decimal without sign or leading zeros, at most <paramref name="max"/>.</summary>
    private static bool TryParseSmall(ReadOnlySpan<char> text, int max, out int value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 3 || text.ContainsAnyExceptInRange('0', '9') || (text.Length > 1 && text[0] == '0'))
        {
            return false;
        }

        value = int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        return value <= max;
    }
}
