using System.Text.Json.Serialization;

namespace MeterAgent.Contracts.Specs;

/// <summary>
/// Spec files are hand-edited: an unknown member is far more likely a typo ("cached_imput") than an extension, and a
/// silently ignored weight would misprice every request, so unmapped members and duplicates are errors.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(ContractSpecDocument))]
internal sealed partial class ContractSpecJsonContext : JsonSerializerContext;
