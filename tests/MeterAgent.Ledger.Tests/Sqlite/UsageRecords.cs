using System.Reflection;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Tests.Sqlite;

internal static class UsageRecords
{
    /// <summary>Whole microseconds: the store keeps timestamps to the microsecond.</summary>
    public static readonly DateTimeOffset T0 = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    public static string NewId(DateTimeOffset startedAt) => Guid.CreateVersion7(startedAt).ToString("N");

    public static UsageRecord Minimal(string accountId = "acct_0000000000000001", DateTimeOffset? startedAt = null, string? model = "gpt-4o")
    {
        var started = startedAt ?? T0;
        return new UsageRecord
        {
            Id = NewId(started),
            AccountId = accountId,
            KeyId = "key_0000000000000001",
            Surface = "openai.chat_completions",
            RequestedModel = model,
            StartedAt = started,
        };
    }

    /// <summary>Every field set to something other than its default, so a round trip proves each column.</summary>
    public static UsageRecord Full(DateTimeOffset startedAt, UsageStatus status = UsageStatus.ClientAborted) => new()
    {
        Id = NewId(startedAt),
        AccountId = "acct_00000000000000aa",
        KeyId = "key_00000000000000bb",
        Surface = "anthropic.messages",
        RouteId = "anthropic-route",
        ClusterId = "anthropic-cluster",
        RequestedModel = "claude-sonnet-4",
        ServedModel = "claude-sonnet-4-20250514",
        Stream = true,
        StartedAt = startedAt,
        FirstTokenAt = startedAt.AddTicks(1_234_560),
        EndedAt = startedAt.AddSeconds(3).AddTicks(70),
        Status = status,
        HttpStatus = 499,
        Error = "client disconnected",
        NativeReported = true,
        NativeInputTokens = 1200,
        NativeCachedInputTokens = 800,
        NativeCacheWriteTokens = 100,
        NativeOutputTokens = 350,
        NativeReasoningTokens = 40,
        ReferenceInputTokens = 1190,
        ReferenceOutputTokens = 345,
        Quality = "native",
        NonTextInput = true,
        ReferenceTokenizer = "o200k_base:sha256:abc123",
        ContractId = "acme-gpt4o-2026q1",
        ContractVersion = 3,
        UnitsMicro = 2_500_000,
        RedeemedMicro = 2_000_000,
        OverageMicro = 500_000,
        LotIds = ["lot_00000000000000a1", "lot_00000000000000a2"],
        UnitsBasis = "native_floored",
        Flags = "native_below_reference,native_not_final",
    };

    public static PropertyInfo[] Properties { get; } = typeof(UsageRecord).GetProperties(BindingFlags.Public | BindingFlags.Instance);

    /// <summary>Compares every public property, so a field added to the record and forgotten by the store fails here.</summary>
    public static void AssertSame(UsageRecord expected, UsageRecord? actual)
    {
        Assert.NotNull(actual);
        foreach (var property in Properties)
        {
            var want = property.GetValue(expected);
            var got = property.GetValue(actual);

            // Lists come back as new instances: compare their elements, in order.
            if (want is IEnumerable<string> wantItems && want is not string)
            {
                Assert.True(got is IEnumerable<string>, $"{property.Name}: expected a list, got <{got}>");
                Assert.True(
                    wantItems.SequenceEqual((IEnumerable<string>)got!),
                    $"{property.Name}: expected [{string.Join(", ", wantItems)}], got [{string.Join(", ", (IEnumerable<string>)got!)}]");
                continue;
            }

            Assert.True(Equals(want, got), $"{property.Name}: expected <{want}>, got <{got}>");
        }
    }
}
