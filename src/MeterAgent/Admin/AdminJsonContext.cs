using System.Text.Json;
using System.Text.Json.Serialization;
using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Admin;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    Converters = [typeof(UsageStatusJsonConverter)])]
[JsonSerializable(typeof(CreateAccountRequest))]
[JsonSerializable(typeof(Account))]
[JsonSerializable(typeof(IReadOnlyList<Account>))]
[JsonSerializable(typeof(IssuedKeyResponse))]
[JsonSerializable(typeof(ApiKeyInfo))]
[JsonSerializable(typeof(IReadOnlyList<ApiKeyInfo>))]
[JsonSerializable(typeof(UsageRecord))]
[JsonSerializable(typeof(UsagePage))]
[JsonSerializable(typeof(Credits.LotView))]
[JsonSerializable(typeof(IReadOnlyList<Credits.LotView>))]
[JsonSerializable(typeof(Credits.PolicyView))]
[JsonSerializable(typeof(Credits.BalanceView))]
[JsonSerializable(typeof(Credits.DeliveryResultView))]
[JsonSerializable(typeof(Credits.DeliveryRequest))]
[JsonSerializable(typeof(Credits.CorrectionRequest))]
[JsonSerializable(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails))]
internal sealed partial class AdminJsonContext : JsonSerializerContext;

/// <summary>Statuses on the wire as the records store them: client_aborted, upstream_failed, ...</summary>
internal sealed class UsageStatusJsonConverter() : JsonStringEnumConverter<UsageStatus>(JsonNamingPolicy.SnakeCaseLower);

internal sealed record CreateAccountRequest(string? Name);

/// <summary>The only time the secret is shown.</summary>
internal sealed record IssuedKeyResponse(string KeyId, string AccountId, string Key, string Prefix, DateTimeOffset CreatedAt);

/// <summary>A page of records, newest first; pass next_before as ?before= for the next page.</summary>
internal sealed record UsagePage(IReadOnlyList<UsageRecord> Records, string? NextBefore);
