using System.Text;
using System.Text.Json;

namespace MeterAgent.Metering.Requests;

/// <summary>
/// One Utf8JsonReader pass over a request body that finds a member name used twice in one object, at any depth, and
/// enforces the depth limit. A duplicate is rejected because readers disagree on it: JsonDocument and most upstreams
/// take the last, a splice or a streaming reader may take the first, so what the proxy meters and what the upstream
/// acts on could differ. Names are compared unescaped ("a" and "\u0061" are the same member).
/// Small objects are checked by a linear scan over the names kept so far; objects with many members use a hash set
/// (randomised hashing, so colliding names cannot make it quadratic). The scratch state is cached per thread, so a
/// typical body allocates nothing.
/// </summary>
internal sealed class MemberScan
{
    /// <summary>The nesting limit shared by every reader of request bodies (RequestParser, StreamUsageRequest).</summary>
    public const int MaxDepth = 256;

    private const int LinearLimit = 16;

    // Beyond these, the scratch buffers are dropped after use rather than kept for the next body on this thread.
    private const int KeepNameBytes = 64 * 1024;
    private const int KeepEntries = 4096;

    [ThreadStatic]
    private static MemberScan? t_cached;

    private readonly Frame[] _frames = new Frame[MaxDepth + 2];
    private readonly NameComparer _comparer;
    private byte[] _names = new byte[1024];
    private int _namesLength;

    // Per member of every open object: where its unescaped name sits in _names.
    private (int Start, int Length)[] _entries = new (int, int)[64];
    private int _entryCount;
    private int _depth;

    private MemberScan() => _comparer = new NameComparer(this);

    /// <summary>Null when every object's member names are distinct; else the path of the repeated member (e.g. messages[0].content).</summary>
    /// <exception cref="JsonException">Not valid JSON, or nested deeper than <see cref="MaxDepth"/>.</exception>
    /// <exception cref="InvalidOperationException">A member name has an escape that is no valid UTF-16 (a lone surrogate).</exception>
    public static string? FindDuplicate(ReadOnlySpan<byte> utf8Json)
    {
        var scan = t_cached ?? new MemberScan();
        t_cached = null;
        try
        {
            return scan.Run(utf8Json);
        }
        finally
        {
            scan.Reset();
            t_cached = scan;
        }
    }

    private string? Run(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = MaxDepth });
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    Push(isObject: true);
                    break;
                case JsonTokenType.StartArray:
                    Push(isObject: false);
                    break;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    Pop();
                    break;
                case JsonTokenType.PropertyName:
                    if (!AddName(ref reader))
                    {
                        return Path();
                    }

                    break;
                default:
                    CountElement();
                    break;
            }
        }

        return null;
    }

    private void CountElement()
    {
        if (_depth > 0 && !_frames[_depth].IsObject)
        {
            _frames[_depth].Count++;
        }
    }

    private void Push(bool isObject)
    {
        CountElement();
        var parentKey = _depth == 0 ? -1 : _frames[_depth].IsObject ? _entryCount - 1 : _frames[_depth].Count - 1;
        _depth++;
        ref var frame = ref _frames[_depth];
        frame.IsObject = isObject;
        frame.ParentKey = parentKey;
        frame.EntryStart = _entryCount;
        frame.NamesStart = _namesLength;
        frame.Count = 0;
        frame.Set?.Clear();
    }

    private void Pop()
    {
        ref var frame = ref _frames[_depth];
        if (frame.IsObject)
        {
            // An object's names matter only while it is open.
            _entryCount = frame.EntryStart;
            _namesLength = frame.NamesStart;
            frame.Set?.Clear();
        }

        _depth--;
    }

    /// <returns>False when the name is already a member of the current object (it is still added, last, for the path).</returns>
    private bool AddName(ref Utf8JsonReader reader)
    {
        var start = _namesLength;
        int length;
        if (reader.ValueIsEscaped)
        {
            EnsureNames(reader.ValueSpan.Length);
            length = reader.CopyString(_names.AsSpan(start));
        }
        else
        {
            var raw = reader.ValueSpan;
            EnsureNames(raw.Length);
            raw.CopyTo(_names.AsSpan(start));
            length = raw.Length;
        }

        _namesLength += length;
        if (_entryCount == _entries.Length)
        {
            Array.Resize(ref _entries, _entries.Length * 2);
        }

        var entry = _entryCount++;
        _entries[entry] = (start, length);
        ref var frame = ref _frames[_depth];
        frame.Count++;
        if (frame.Count <= LinearLimit)
        {
            var name = _names.AsSpan(start, length);
            for (var i = frame.EntryStart; i < entry; i++)
            {
                if (_entries[i].Length == length && _names.AsSpan(_entries[i].Start, length).SequenceEqual(name))
                {
                    return false;
                }
            }

            return true;
        }

        if (frame.Set is null || frame.Set.Count == 0)
        {
            frame.Set ??= new HashSet<int>(_comparer);
            for (var i = frame.EntryStart; i < entry; i++)
            {
                frame.Set.Add(i);
            }
        }

        return frame.Set.Add(entry);
    }

    private void EnsureNames(int more)
    {
        if (_namesLength + more > _names.Length)
        {
            Array.Resize(ref _names, Math.Max(_namesLength + more, _names.Length * 2));
        }
    }

    /// <summary>The repeated member's path from the root, as a client would name the parameter.</summary>
    private string Path()
    {
        var path = new StringBuilder();
        for (var level = 2; level <= _depth + 1; level++)
        {
            // The member name that opened each level, then the repeated name itself.
            var parent = _frames[level - 1];
            var key = level <= _depth ? _frames[level].ParentKey : _entryCount - 1;
            if (parent.IsObject)
            {
                if (path.Length > 0)
                {
                    path.Append('.');
                }

                var (start, length) = _entries[key];
                path.Append(Encoding.UTF8.GetString(_names, start, length));
            }
            else
            {
                path.Append('[').Append(key).Append(']');
            }
        }

        return path.ToString();
    }

    private void Reset()
    {
        for (var i = 0; i <= _depth; i++)
        {
            _frames[i].Set?.Clear();
        }

        _depth = 0;
        _entryCount = 0;
        _namesLength = 0;
        if (_names.Length > KeepNameBytes)
        {
            _names = new byte[1024];
        }

        if (_entries.Length > KeepEntries)
        {
            _entries = new (int, int)[64];
        }

        for (var i = 0; i < _frames.Length; i++)
        {
            if (_frames[i].Set is { } set && set.EnsureCapacity(0) > KeepEntries)
            {
                _frames[i].Set = null;
            }
        }
    }

    private struct Frame
    {
        public bool IsObject;

        // The entry of the member holding this value (parent object), or its index (parent array); -1 for the root.
        public int ParentKey;
        public int EntryStart;
        public int NamesStart;

        // Members so far (object) or elements so far (array).
        public int Count;
        public HashSet<int>? Set;
    }

    /// <summary>Compares entries by their name bytes; HashCode is seeded per process, so clashing names cannot be precomputed.</summary>
    private sealed class NameComparer(MemberScan owner) : IEqualityComparer<int>
    {
        public bool Equals(int x, int y) => Name(x).SequenceEqual(Name(y));

        public int GetHashCode(int obj)
        {
            var hash = default(HashCode);
            hash.AddBytes(Name(obj));
            return hash.ToHashCode();
        }

        private ReadOnlySpan<byte> Name(int entry)
        {
            var (start, length) = owner._entries[entry];
            return owner._names.AsSpan(start, length);
        }
    }
}
