using System.Buffers;

namespace MeterAgent.Metering.Buffers;

/// <summary>A growable byte buffer on ArrayPool memory: the tap keeps partial lines, event data and JSON bodies in these.</summary>
internal sealed class PooledBuffer : IDisposable
{
    private byte[] _array = [];

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Span => _array.AsSpan(0, Length);

    public ReadOnlyMemory<byte> Memory => _array.AsMemory(0, Length);

    public void Append(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        EnsureCapacity(Length + bytes.Length);
        bytes.CopyTo(_array.AsSpan(Length));
        Length += bytes.Length;
    }

    public void Append(byte value)
    {
        EnsureCapacity(Length + 1);
        _array[Length++] = value;
    }

    /// <summary>Drops the last byte (the data buffer's trailing line feed).</summary>
    public void TrimLast() => Length = Math.Max(0, Length - 1);

    public void Clear() => Length = 0;

    public void Dispose()
    {
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }

        _array = [];
        Length = 0;
    }

    private void EnsureCapacity(int needed)
    {
        if (needed <= _array.Length)
        {
            return;
        }

        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(256, _array.Length * 2)));
        _array.AsSpan(0, Length).CopyTo(larger);
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }

        _array = larger;
    }
}
