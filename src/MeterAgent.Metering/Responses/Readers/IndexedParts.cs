namespace MeterAgent.Metering.Responses.Readers;

/// <summary>Output text keyed by the index the upstream gives it (choice, tool call, content block, output item), kept in index order.</summary>
/// <remarks>
/// Nearly every response has one part of each kind (one choice, one content block): it is kept inline, and an array of
/// all the parts is made only when a second one comes.
/// </remarks>
internal sealed class IndexedParts<T> : IDisposable
    where T : class, IDisposable
{
    private int _firstIndex;
    private T? _first;

    // Once a second part came: every part, in index order (the first included); _first is then null.
    private (int Index, T Part)[]? _parts;
    private int _count;

    public int Count => _count;

    public T this[int position] =>
        (uint)position >= (uint)_count ? throw new ArgumentOutOfRangeException(nameof(position))
        : _parts is null ? _first! : _parts[position].Part;

    public T GetOrAdd<TState>(int index, TState state, Func<TState, T> create)
    {
        if (_parts is null)
        {
            if (_count == 0)
            {
                _firstIndex = index;
                _count = 1;
                return _first = create(state);
            }

            if (_firstIndex == index)
            {
                return _first!;
            }

            _parts = new (int, T)[4];
            _parts[0] = (_firstIndex, _first!);
            _first = null;
        }

        // Streams almost always append at the end; search from there.
        var at = _count;
        for (var i = _count - 1; i >= 0; i--)
        {
            if (_parts[i].Index == index)
            {
                return _parts[i].Part;
            }

            if (_parts[i].Index < index)
            {
                break;
            }

            at = i;
        }

        var added = create(state);
        if (_count == _parts.Length)
        {
            Array.Resize(ref _parts, _count * 2);
        }

        Array.Copy(_parts, at, _parts, at + 1, _count - at);
        _parts[at] = (index, added);
        _count++;
        return added;
    }

    /// <summary>Drops every part, returning their pooled text.</summary>
    public void Clear()
    {
        Dispose();
        if (_parts is not null)
        {
            Array.Clear(_parts, 0, _count);
        }

        _first = null;
        _count = 0;
    }

    public void Dispose()
    {
        for (var i = 0; i < _count; i++)
        {
            this[i].Dispose();
        }
    }
}
