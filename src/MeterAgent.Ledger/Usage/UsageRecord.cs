using MeterAgent.Contracts.Units;

namespace MeterAgent.Ledger.Usage;

/// <summary>
/// One request, as metered. Native counts are the upstream's (normalised: input includes cached and cache writes,
/// output includes reasoning); reference counts are o200k_base over the canonical text (docs/canonical-text.md).
/// </summary>
public sealed class UsageRecord
{
    // Every request allocates one record. Its optional numbers and times are stored without Nullable<T>'s flag and its
    // padding (88 bytes of a record's ~370): the minimum of each type, which no count, amount, status or time of a
    // request can be, stands for "none", and a setter refuses it as a value.
    private long _nativeInputTokens = Optional.NoLong;
    private long _nativeCachedInputTokens = Optional.NoLong;
    private long _nativeCacheWriteTokens = Optional.NoLong;
    private long _nativeOutputTokens = Optional.NoLong;
    private long _nativeReasoningTokens = Optional.NoLong;
    private long _unitsMicro = Optional.NoLong;
    private long _redeemedMicro = Optional.NoLong;
    private long _overageMicro = Optional.NoLong;
    private int _httpStatus = Optional.NoInt;
    private int _contractVersion = Optional.NoInt;
    private DateTimeOffset _firstTokenAt = Optional.NoTime;
    private DateTimeOffset _endedAt = Optional.NoTime;

    public required string Id { get; init; }

    public required string AccountId { get; init; }

    public required string KeyId { get; init; }

    /// <summary>Surface name, e.g. openai.chat_completions.</summary>
    public required string Surface { get; init; }

    public string? RouteId { get; set; }

    public string? ClusterId { get; set; }

    public string? RequestedModel { get; set; }

    public string? ServedModel { get; set; }

    public bool Stream { get; set; }

    public required DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? FirstTokenAt { get => Optional.Get(_firstTokenAt); set => _firstTokenAt = Optional.Set(value); }

    public DateTimeOffset? EndedAt { get => Optional.Get(_endedAt); set => _endedAt = Optional.Set(value); }

    public UsageStatus Status { get; set; }

    /// <summary>HTTP status the client received.</summary>
    public int? HttpStatus { get => Optional.Get(_httpStatus); set => _httpStatus = Optional.Set(value); }

    /// <summary>Why a request failed or was rejected (no secrets, no content).</summary>
    public string? Error { get; set; }

    /// <summary>The upstream reported usage; when false, native counts are null and Quality is "estimated".</summary>
    public bool NativeReported { get; set; }

    public long? NativeInputTokens { get => Optional.Get(_nativeInputTokens); set => _nativeInputTokens = Optional.Set(value); }

    public long? NativeCachedInputTokens { get => Optional.Get(_nativeCachedInputTokens); set => _nativeCachedInputTokens = Optional.Set(value); }

    public long? NativeCacheWriteTokens { get => Optional.Get(_nativeCacheWriteTokens); set => _nativeCacheWriteTokens = Optional.Set(value); }

    public long? NativeOutputTokens { get => Optional.Get(_nativeOutputTokens); set => _nativeOutputTokens = Optional.Set(value); }

    public long? NativeReasoningTokens { get => Optional.Get(_nativeReasoningTokens); set => _nativeReasoningTokens = Optional.Set(value); }

    public long ReferenceInputTokens { get; set; }

    public long ReferenceOutputTokens { get; set; }

    /// <summary>The counts above, as contract units price them.</summary>
    public MeteredCounts Counts => new(
        ReferenceInputTokens, ReferenceOutputTokens,
        NativeInputTokens, NativeCachedInputTokens, NativeCacheWriteTokens, NativeOutputTokens, NativeReasoningTokens);

    /// <summary>"native" when the upstream reported usage, "estimated" when only reference counts exist.</summary>
    public string Quality { get; set; } = "estimated";

    /// <summary>The input had parts (images, audio, token arrays) that the reference count cannot see.</summary>
    public bool NonTextInput { get; set; }

    /// <summary>Reference tokenizer identity: "o200k_base" plus the SHA-256 of its rank data.</summary>
    public string? ReferenceTokenizer { get; set; }

    /// <summary>The contract the request was redeemed under; null when no credit covered it.</summary>
    public string? ContractId { get; set; }

    public int? ContractVersion { get => Optional.Get(_contractVersion); set => _contractVersion = Optional.Set(value); }

    /// <summary>What the request cost in that contract's units (micro-units), from the counts above.</summary>
    public long? UnitsMicro { get => Optional.Get(_unitsMicro); set => _unitsMicro = Optional.Set(value); }

    /// <summary>Redeemed from credit lots (micro-units). UnitsMicro = RedeemedMicro + OverageMicro.</summary>
    public long? RedeemedMicro { get => Optional.Get(_redeemedMicro); set => _redeemedMicro = Optional.Set(value); }

    /// <summary>Beyond what credits covered: for the provider to bill at spot (micro-units).</summary>
    public long? OverageMicro { get => Optional.Get(_overageMicro); set => _overageMicro = Optional.Set(value); }

    /// <summary>The credit lots the request drew on, in draw order.</summary>
    public IReadOnlyList<string> LotIds { get; set; } = [];

    /// <summary>
    /// Which counts priced <see cref="UnitsMicro"/>: <c>reference</c> (a reference-basis contract), <c>native</c> (the
    /// upstream's counts), <c>native_floored</c> (the upstream's counts, raised to the reference count of what was
    /// delivered where they were lower), <c>reference_fallback</c> (a native-basis contract, but the upstream reported
    /// no usage). Null when nothing was priced.
    /// </summary>
    public string? UnitsBasis { get; set; }

    /// <summary>
    /// What metering noticed, comma-separated and sorted (see <see cref="UsageFlags"/>): e.g. a usage block that was not
    /// final, upstream numbers that were clamped, a response too large to keep whole. Empty when nothing was noticed.
    /// </summary>
    public string Flags { get; set; } = string.Empty;

    private static class Optional
    {
        public const long NoLong = long.MinValue;
        public const int NoInt = int.MinValue;
        public static readonly DateTimeOffset NoTime = DateTimeOffset.MinValue;

        public static long? Get(long stored) => stored == NoLong ? null : stored;

        public static int? Get(int stored) => stored == NoInt ? null : stored;

        public static DateTimeOffset? Get(DateTimeOffset stored) => stored == NoTime ? null : stored;

        public static long Set(long? value) => value switch
        {
            null => NoLong,
            NoLong => throw new ArgumentOutOfRangeException(nameof(value), value, "Not a count or an amount."),
            { } v => v,
        };

        public static int Set(int? value) => value switch
        {
            null => NoInt,
            NoInt => throw new ArgumentOutOfRangeException(nameof(value), value, "Not a status or a version."),
            { } v => v,
        };

        public static DateTimeOffset Set(DateTimeOffset? value) =>
            value is not { } v ? NoTime
            : v == NoTime ? throw new ArgumentOutOfRangeException(nameof(value), value, "Not the time of a request.")
            : v;
    }
}
