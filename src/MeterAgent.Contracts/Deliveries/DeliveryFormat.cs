namespace MeterAgent.Contracts.Deliveries;

/// <summary>Constants of the delivery notice wire format (docs/deliveries.md).</summary>
public static class DeliveryFormat
{
    /// <summary>The only accepted JWS algorithm: ECDSA P-256 with SHA-256.</summary>
    public const string Algorithm = "ES256";

    /// <summary>
    /// The JWS <c>typ</c> header. A dedicated type stops a token the clearing house signs for another purpose with the
    /// same key from being replayed here as a delivery (RFC 8725 §3.11).
    /// </summary>
    public const string Type = "meteragent-delivery+jwt";

    /// <summary>Longest compact JWS accepted: a notice is a few hundred bytes; the cap keeps junk from being decoded.</summary>
    public const int MaxCompactLength = 16 * 1024;

    /// <summary>Longest <c>delivery_id</c> and <c>account_id</c>, in characters.</summary>
    public const int MaxIdLength = 128;
}
