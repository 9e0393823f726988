using System.Text.Json.Serialization;

namespace MeterAgent.Log;

/// <summary>The usage log's JSON (docs/attestation.md, "In the agent"): snake_case, hashes and entries as standard base64.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(InclusionProofView))]
[JsonSerializable(typeof(ConsistencyProofView))]
[JsonSerializable(typeof(LogKeysView))]
[JsonSerializable(typeof(AccountProofView))]
internal sealed partial class LogJsonContext : JsonSerializerContext;

/// <summary>
/// A record's inclusion proof: its entry (what the leaf hashes), the path to the root of <see cref="TreeSize"/>, and the
/// published checkpoint of that size (null when the caller named the size and so holds its checkpoint already).
/// </summary>
internal sealed record InclusionProofView(string UsageId, long LeafIndex, long TreeSize, byte[] Entry, IReadOnlyList<byte[]> Hashes, string? Checkpoint);

/// <summary>
/// An account's proof of one of its records: the inclusion proof, and the statement that counted the record with the
/// account's own row in it. Not the envelope: a statement holds every account's totals of its contract.
/// </summary>
internal sealed record AccountProofView(
    string UsageId, long LeafIndex, long TreeSize, byte[] Entry, IReadOnlyList<byte[]> Hashes, string? Checkpoint,
    IReadOnlyList<AccountStatementView> Statements);

/// <summary>A statement as an account sees it: which one, its digest, and the account's totals in it.</summary>
internal sealed record AccountStatementView(
    long Sequence, string ContractId, DateTimeOffset IntervalStart, DateTimeOffset IntervalEnd, long? Amends, long TreeSize, string Digest,
    Attestation.Statements.AccountTotals Totals);

internal sealed record ConsistencyProofView(long From, long To, IReadOnlyList<byte[]> Hashes);

/// <summary>Every key the log has signed with, current first, so what an old key signed still verifies.</summary>
internal sealed record LogKeysView(string Origin, string Current, IReadOnlyList<LogKeyView> Keys);

/// <summary>One key: its vkey, its note key id (8 hex digits) and whether the log signs with it now.</summary>
internal sealed record LogKeyView(string Vkey, string KeyId, bool Current);
