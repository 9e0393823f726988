using System.Text.Json.Serialization;
using MeterAgent.Common;

namespace MeterAgent.Credits;

/// <summary>The clearing, credit-admin and account APIs' wire types (snake_case, as the OpenAI and Anthropic APIs).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    Converters = [typeof(UsageStatusJsonConverter)])]
[JsonSerializable(typeof(LotView))]
[JsonSerializable(typeof(IReadOnlyList<LotView>))]
[JsonSerializable(typeof(PolicyView))]
[JsonSerializable(typeof(BalanceView))]
[JsonSerializable(typeof(UsageTotalsView))]
[JsonSerializable(typeof(DeliveryResultView))]
[JsonSerializable(typeof(DeliveryRequest))]
[JsonSerializable(typeof(CorrectionRequest))]
[JsonSerializable(typeof(UsagePage))]
[JsonSerializable(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails))]
internal sealed partial class CreditsJsonContext : JsonSerializerContext;
