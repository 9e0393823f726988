using System.Text.Json.Serialization;
using MeterAgent.Ledger.Statements;

namespace MeterAgent.Log;

/// <summary>One statement in a listing: what it covers and its digest (hex SHA-256 of its envelope).</summary>
internal sealed record StatementView(
    long Sequence, string ContractId, DateTimeOffset IntervalStart, DateTimeOffset IntervalEnd, long? Amends, long TreeSize, string Digest)
{
    public static StatementView From(StatementHeader header) => new(
        header.Sequence, header.ContractId, header.IntervalStart, header.IntervalEnd, header.Amends, header.TreeSize,
        Convert.ToHexStringLower(header.Digest));
}

/// <summary>A page of statements; <c>next</c> is the last sequence returned (pass it as <c>since</c>), null when none.</summary>
internal sealed record StatementPage(IReadOnlyList<StatementView> Statements, long? Next);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(StatementPage))]
[JsonSerializable(typeof(StatementView))]
internal sealed partial class StatementJsonContext : JsonSerializerContext;
