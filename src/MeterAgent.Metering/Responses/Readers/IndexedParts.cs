namespace MeterAgent.Metering.Responses.Readers;

/// <summary>Output text keyed by the index the upstream gives it (choice, tool call, content block, output item), kept in index order.</summary>
internal sealed class IndexedParts<T> : IDisposable
    where T : class, IDisposable
{
    private readonly List<(int Index, T Part)> _parts = new(2);

    public int Count => _parts.Count;

    public T this[int position] => _parts[position].Part;

    public T GetOrAdd<TState>(int index, TState state, Func<TState, T> create)
    {
        // Streams almost always append at the end; search from there.
        for (var i = _parts.Count - 1; i >= 0; i--)
        {
            if (_parts[i].Index == index)
            {
                return _parts[i].Part;
            }

            if (_parts[i].Index < index)
            {
                var added = create(state);
                _parts.Insert(i + 1, (index, added));
                return added;
            }
        }

        var first = create(state);
        _parts.Insert(0, (index, first));
        return first;
    }

    /// <summary>Drops every part, returning their pooled text.</summary>
    public void Clear()
    {
        Dispose();
        _parts.Clear();
    }

    public void Dispose()
    {
        foreach (var (_, part) in _parts)
        {
            part.Dispose();
        }
    }
}
