using System.Text.Json.Serialization;

namespace MeterAgent.Log;

/// <summary>The usage log's JSON (docs/attestation.md, /work/log-api.md): snake_case, hashes and entries as standard base64.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(InclusionProofView))]
[JsonSerializable(typeof(ConsistencyProofView))]
internal sealed partial class LogJsonContext : JsonSerializerContext;

/// <summary>
/// A record's inclusion proof: its entry (what the leaf hashes), the path to the root of <see cref="TreeSize"/>, and the
/// published checkpoint of that size (null when the caller named the size and so holds its checkpoint already).
/// </summary>
internal sealed record InclusionProofView(string UsageId, long LeafIndex, long TreeSize, byte[] Entry, IReadOnlyList<byte[]> Hashes, string? Checkpoint);

internal sealed record ConsistencyProofView(long From, long To, IReadOnlyList<byte[]> Hashes);
