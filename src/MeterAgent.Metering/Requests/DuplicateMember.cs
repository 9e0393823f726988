using System.Text;
using System.Text.Json;

namespace MeterAgent.Metering.Requests;

/// <summary>
/// Names the member a body repeats, as a path from the root (e.g. messages[0].content), for the 400 that refuses it.
/// A duplicate is refused because readers disagree on it: JsonDocument and most upstreams take the last, a splice or a
/// streaming reader may take the first, so what the proxy meters and what the upstream acts on could differ. Finding
/// one is JsonDocument's work (<see cref="JsonDocumentOptions.AllowDuplicateProperties"/>, in the one parse every
/// body gets); this second pass runs only on a body it refused, to say where.
/// </summary>
internal static class DuplicateMember
{
    /// <summary>The nesting limit shared by every reader of request bodies (RequestParser, StreamUsageRequest).</summary>
    public const int MaxDepth = 256;

    /// <summary>
    /// The path of the first member named twice in one object (names compared unescaped), or null when there is none
    /// before the body stops being JSON (too deep, malformed, a name that is no valid UTF-16).
    /// </summary>
    public static string? FindPath(ReadOnlySpan<byte> utf8Json)
    {
        try
        {
            return Scan(utf8Json);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static string? Scan(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = MaxDepth });

        // One level per open object or array: its names so far (objects) or its element count (arrays), and the key
        // under which it sits in its parent.
        var levels = new Stack<Level>();
        string? pendingName = null;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    levels.Push(new Level(KeyInParent(levels, pendingName), reader.TokenType == JsonTokenType.StartObject));
                    pendingName = null;
                    break;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    levels.Pop();
                    break;
                case JsonTokenType.PropertyName:
                    pendingName = reader.GetString()!;
                    if (!levels.Peek().Names!.Add(pendingName))
                    {
                        return Path(levels, pendingName);
                    }

                    break;
                default:
                    _ = KeyInParent(levels, pendingName);
                    pendingName = null;
                    break;
            }
        }

        return null;
    }

    /// <summary>The key of the value starting now: the pending member name in an object, the next index in an array.</summary>
    private static string? KeyInParent(Stack<Level> levels, string? pendingName)
    {
        if (!levels.TryPeek(out var parent))
        {
            return null;
        }

        return parent.Names is null ? $"[{parent.Elements++}]" : pendingName;
    }

    private static string Path(Stack<Level> levels, string repeated)
    {
        var keys = new List<string>();
        foreach (var level in levels)
        {
            if (level.Key is { } key)
            {
                keys.Add(key);
            }
        }

        keys.Reverse();
        var path = new StringBuilder();
        foreach (var key in keys)
        {
            if (path.Length > 0 && key[0] != '[')
            {
                path.Append('.');
            }

            path.Append(key);
        }

        return (path.Length > 0 ? path.Append('.') : path).Append(repeated).ToString();
    }

    private sealed class Level(string? key, bool isObject)
    {
        public string? Key { get; } = key;

        public HashSet<string>? Names { get; } = isObject ? new HashSet<string>(StringComparer.Ordinal) : null;

        public int Elements { get; set; }
    }
}
