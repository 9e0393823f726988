using System.Text.Json.Serialization;

namespace MeterAgent.Log;

/// <summary>The usage log's JSON (docs/attestation.md, "In the agent"): snake_case, hashes and entries as standard base64.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(InclusionProofView))]
[JsonSerializable(typeof(ConsistencyProofView))]
[JsonSerializable(typeof(LogKeysView))]
internal sealed partial class LogJsonContext : JsonSerializerContext;

/// <summary>
/// A record's inclusion proof: its entry (what the leaf hashes), the path to the root of <see cref="TreeSize"/>, and the
/// published checkpoint of that size (null when the caller named the size and so holds its checkpoint already).
/// </summary>
internal sealed record InclusionProofView(string UsageId, long LeafIndex, long TreeSize, byte[] Entry, IReadOnlyList<byte[]> Hashes, string? Checkpoint);

internal sealed record ConsistencyProofView(long From, long To, IReadOnlyList<byte[]> Hashes);

/// <summary>Every key the log has signed with, current first, so what an old key signed still verifies.</summary>
internal sealed record LogKeysView(string Origin, string Current, IReadOnlyList<LogKeyView> Keys);

/// <summary>One key: its vkey, its note key id (8 hex digits) and whether the log signs with it now.</summary>
internal sealed record LogKeyView(string Vkey, string KeyId, bool Current);
