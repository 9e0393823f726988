namespace MeterAgent.Emulator.Text;

/// <summary>
/// A tiny seeded PRNG. System.Random's algorithm is not a compatibility promise across .NET versions;
/// this one is fixed, so recorded outputs stay valid.
/// </summary>
internal struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        var z = _state += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    public int Next(int exclusiveMax) => (int)(Next() % (ulong)exclusiveMax);

    /// <summary>A float in [-1, 1).</summary>
    public float NextSignedUnit() => (float)((Next() >> 40) / (double)(1UL << 24) * 2.0 - 1.0);
}
