namespace MeterAgent.Contracts.Deliveries;

/// <summary>
/// Stable codes a refused notice is answered with. The clearing house acts on them (re-sign, fix the key set, stop
/// retrying), so they never change meaning; messages may.
/// </summary>
public static class DeliveryErrorCodes
{
    /// <summary>Not a compact JWS of the expected shape, or a payload claim missing or of the wrong type.</summary>
    public const string Malformed = "malformed";

    /// <summary>The signature does not verify with the trusted key the header names (tampered, or signed by another key).</summary>
    public const string BadSignature = "bad_signature";

    /// <summary>No trusted key has the header's <c>kid</c>.</summary>
    public const string UnknownKey = "unknown_key";

    /// <summary>The header's <c>alg</c> is not ES256 (<c>none</c>, HMAC and RSA are refused).</summary>
    public const string UnsupportedAlg = "unsupported_alg";

    /// <summary>No contract with the notice's id and version in the catalog.</summary>
    public const string UnknownContract = "unknown_contract";

    /// <summary>Quantity not above 0, more precise than a micro-unit, or not a decimal number.</summary>
    public const string InvalidQuantity = "invalid_quantity";

    /// <summary>Window start not before its end, or the window not inside the contract's delivery window.</summary>
    public const string InvalidWindow = "invalid_window";

    /// <summary>The window has already ended: nothing is left to redeem.</summary>
    public const string ExpiredWindow = "expired_window";

    /// <summary>The notice's iat is later than this agent's clock plus the allowed skew: a clock is wrong somewhere.</summary>
    public const string NotYetValid = "not_yet_valid";

    /// <summary>The notice's exp has passed (or it is older than the configured max age), beyond the allowed skew.</summary>
    public const string Expired = "expired";

    /// <summary>The notice has an aud claim that does not name this provider (or this agent has no provider id set).</summary>
    public const string WrongAudience = "wrong_audience";
}
