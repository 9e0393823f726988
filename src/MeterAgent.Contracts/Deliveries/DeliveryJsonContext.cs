using System.Text.Json.Serialization;

namespace MeterAgent.Contracts.Deliveries;

/// <summary>
/// Duplicate members are refused: with two "quantity" claims, the clearing house's tooling and this parser could each
/// read a different one, and the signature would vouch for both.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(JoseHeaderDocument))]
[JsonSerializable(typeof(DeliveryPayloadDocument))]
[JsonSerializable(typeof(JwksDocument))]
internal sealed partial class DeliveryJsonContext : JsonSerializerContext;
