using System.Buffers.Binary;

namespace MeterAgent.Attestation.Tiles;

/// <summary>Reads the entries of a bundle in place, without copying them.</summary>
public ref struct EntryBundleReader(ReadOnlySpan<byte> bundle)
{
    private ReadOnlySpan<byte> _rest = bundle;
    private bool _malformed;

    /// <summary>True once every byte has been read as whole entries; false if the bundle was cut short.</summary>
    public readonly bool IsComplete => _rest.IsEmpty && !_malformed;

    public bool TryReadNext(out ReadOnlySpan<byte> entry)
    {
        entry = default;
        if (_rest.IsEmpty || _malformed)
        {
            return false;
        }

        if (_rest.Length < 2 || _rest.Length - 2 < BinaryPrimitives.ReadUInt16BigEndian(_rest))
        {
            _malformed = true;
            return false;
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(_rest);
        entry = _rest.Slice(2, length);
        _rest = _rest[(2 + length)..];
        return true;
    }
}
