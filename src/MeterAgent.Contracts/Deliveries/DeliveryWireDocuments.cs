using System.Text.Json;

namespace MeterAgent.Contracts.Deliveries;

/// <summary>The JOSE header members the verifier reads; all nullable so a missing one is reported by name.</summary>
internal sealed class JoseHeaderDocument
{
    public string? Alg { get; set; }

    public string? Kid { get; set; }

    public string? Typ { get; set; }

    // Not nullable: "crit": null must count as present (and be refused), which a JsonElement? would read as absent.
    public JsonElement Crit { get; set; }
}

/// <summary>The notice's payload claims as sent; unknown claims are ignored, as JWT consumers do.</summary>
internal sealed class DeliveryPayloadDocument
{
    public string? DeliveryId { get; set; }

    public string? ContractId { get; set; }

    public int? ContractVersion { get; set; }

    public string? AccountId { get; set; }

    // A string or a number: kept raw so its exact digits, not a parsed float, decide the precision check.
    public JsonElement? Quantity { get; set; }

    public string? WindowStart { get; set; }

    public string? WindowEnd { get; set; }

    public long? Iat { get; set; }

    // Not long?: "exp": null would read as absent, and a notice must not lose its expiry to a null.
    public JsonElement Exp { get; set; }

    // A string or an array of strings (RFC 7519 §4.1.3); not nullable, so "aud": null counts as present (and malformed).
    public JsonElement Aud { get; set; }
}

/// <summary>A public JWK Set as the signer exports it.</summary>
internal sealed record JwksDocument(IReadOnlyList<PublicEcJwk> Keys);

/// <summary>A public P-256 JWK (RFC 7517/7518): no private member can be written.</summary>
internal sealed record PublicEcJwk(string Kty, string Crv, string Kid, string Use, string Alg, string X, string Y);
