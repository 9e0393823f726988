using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Counters;

/// <summary>
/// What an account used under one contract and one model: requests, tokens per class (native as the upstream reported
/// them, reference as the agent counted them), contract units, redeemed and overage (micro-units). Live counters sum
/// these; the durable usage records stay the source of truth.
/// </summary>
public sealed class UsageTotals
{
    /// <summary>The names the counters are stored and served under, in this order.</summary>
    public static readonly IReadOnlyList<string> FieldNames =
    [
        "requests", "reference_input_tokens", "reference_output_tokens", "native_input_tokens", "native_cached_input_tokens",
        "native_cache_write_tokens", "native_output_tokens", "native_reasoning_tokens", "units_micro", "redeemed_micro", "overage_micro",
    ];

    private readonly long[] _values = new long[FieldNames.Count];

    public long Requests => _values[0];

    public long ReferenceInputTokens => _values[1];

    public long ReferenceOutputTokens => _values[2];

    public long NativeInputTokens => _values[3];

    public long NativeCachedInputTokens => _values[4];

    public long NativeCacheWriteTokens => _values[5];

    public long NativeOutputTokens => _values[6];

    public long NativeReasoningTokens => _values[7];

    public long UnitsMicro => _values[8];

    public long RedeemedMicro => _values[9];

    public long OverageMicro => _values[10];

    /// <summary>The value of field <paramref name="index"/> (see <see cref="FieldNames"/>).</summary>
    public long this[int index] => _values[index];

    /// <summary>Adds one closed record.</summary>
    public void Add(UsageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        _values[0]++;
        _values[1] += record.ReferenceInputTokens;
        _values[2] += record.ReferenceOutputTokens;
        _values[3] += record.NativeInputTokens ?? 0;
        _values[4] += record.NativeCachedInputTokens ?? 0;
        _values[5] += record.NativeCacheWriteTokens ?? 0;
        _values[6] += record.NativeOutputTokens ?? 0;
        _values[7] += record.NativeReasoningTokens ?? 0;
        _values[8] += record.UnitsMicro ?? 0;
        _values[9] += record.RedeemedMicro ?? 0;
        _values[10] += record.OverageMicro ?? 0;
    }

    /// <summary>Adds <paramref name="value"/> to field <paramref name="index"/> (a store reading its counters back).</summary>
    public void Add(int index, long value) => _values[index] += value;
}
