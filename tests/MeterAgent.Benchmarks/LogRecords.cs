using MeterAgent.Ledger.Usage;

namespace MeterAgent.Benchmarks;

/// <summary>Closed, credited usage records as the log appends them: the load harness's small chat request.</summary>
internal static class LogRecords
{
    public const string ContractId = "bench-std";

    public static UsageRecord Closed(string accountId, DateTimeOffset startedAt) => new()
    {
        Id = Guid.CreateVersion7().ToString(),
        AccountId = accountId,
        KeyId = "key-bench",
        Surface = "openai.chat_completions",
        RouteId = "openai-chat",
        ClusterId = "openai",
        RequestedModel = "gpt-4o-mini",
        ServedModel = "gpt-4o-mini-2024-07-18",
        StartedAt = startedAt,
        EndedAt = startedAt.AddMilliseconds(350),
        Status = UsageStatus.Completed,
        HttpStatus = 200,
        NativeReported = true,
        NativeInputTokens = 31,
        NativeOutputTokens = 16,
        ReferenceInputTokens = 30,
        ReferenceOutputTokens = 16,
        ReferenceTokenizer = "o200k_base",
        ContractId = ContractId,
        ContractVersion = 1,
        UnitsMicro = 62_000_000,
        RedeemedMicro = 62_000_000,
    };
}
