using System.Text.Json.Serialization;
using MeterAgent.Ledger.Accounts;
using MeterAgent.Common;
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
[JsonSerializable(typeof(SetRateLimitsRequest))]
[JsonSerializable(typeof(RateLimitsView))]
[JsonSerializable(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails))]
internal sealed partial class AdminJsonContext : JsonSerializerContext;

internal sealed record CreateAccountRequest(string? Name);

/// <summary>The only time the secret is shown.</summary>
internal sealed record IssuedKeyResponse(string KeyId, string AccountId, string Key, string Prefix, DateTimeOffset CreatedAt);
