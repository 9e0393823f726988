using System.Text.Json;
using System.Text.Json.Serialization;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Common;

/// <summary>Statuses on the wire as the records store them: client_aborted, upstream_failed, ...</summary>
internal sealed class UsageStatusJsonConverter() : JsonStringEnumConverter<UsageStatus>(JsonNamingPolicy.SnakeCaseLower);

/// <summary>A page of records, newest first; pass next_before as ?before= for the next page (admin and account APIs alike).</summary>
internal sealed record UsagePage(IReadOnlyList<UsageRecord> Records, string? NextBefore);
