using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using MeterAgent.Contracts.Specs;
using MeterAgent.Contracts.Units;
using Microsoft.IdentityModel.Tokens;

namespace MeterAgent.Contracts.Deliveries;

/// <summary>
/// Verifies delivery notices (compact JWS, ES256) against the clearing house's trusted keys and the contract catalog.
/// Only keys configured here are used: keys or key URLs a token carries in its header (jwk, jku, x5u) are ignored.
/// </summary>
public sealed class DeliveryVerifier
{
    private readonly Dictionary<string, ECDsaSecurityKey> _keys = new(StringComparer.Ordinal);
    private readonly DeliveryClaimRules _rules;

    /// <summary>Trusts every key in the set; each must be a public P-256 signing key with a unique kid. An empty set refuses every notice.</summary>
    /// <param name="trustedKeys">The clearing house's public keys.</param>
    /// <param name="rules">Clock skew, max age and audience; <see cref="DeliveryClaimRules.Default"/> when null.</param>
    public DeliveryVerifier(JsonWebKeySet trustedKeys, DeliveryClaimRules? rules = null)
    {
        ArgumentNullException.ThrowIfNull(trustedKeys);
        _rules = rules ?? DeliveryClaimRules.Default;
        foreach (var jwk in trustedKeys.Keys)
        {
            var key = ToSecurityKey(jwk);
            if (!_keys.TryAdd(key.KeyId, key))
            {
                throw new ArgumentException($"Trusted key '{key.KeyId}' appears twice: a kid must name one key.", nameof(trustedKeys));
            }
        }
    }

    /// <summary>The trusted key ids.</summary>
    public IReadOnlyCollection<string> KeyIds => _keys.Keys;

    /// <summary>Reads a JWK Set file. A file that trusts no key is refused: it can only be a configuration mistake.</summary>
    public static DeliveryVerifier FromJwksFile(string path, DeliveryClaimRules? rules = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        return FromJwksJson(File.ReadAllText(path), path, rules);
    }

    /// <summary>
    /// A JWK Set's text, as read from <paramref name="source"/> (named in errors). Errors are
    /// <see cref="InvalidDataException"/> whose messages name the file and the key, never key material.
    /// </summary>
    public static DeliveryVerifier FromJwksJson(string json, string source, DeliveryClaimRules? rules = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(source);
        JsonWebKeySet set;
        try
        {
            set = new JsonWebKeySet(json);
        }
        catch (Exception ex) when (ex is ArgumentException or JsonException)
        {
            // The parser's own message may quote the text: keys belong in the file, not in logs.
            throw new InvalidDataException($"Trusted keys file '{source}': it is not a JWK Set (a JSON object with a \"keys\" array).", ex);
        }

        try
        {
            if (set.Keys.Count == 0)
            {
                throw new ArgumentException("it holds no keys.");
            }

            return new DeliveryVerifier(set, rules);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"Trusted keys file '{source}': {ex.Message}", ex);
        }
    }

    /// <summary>Checks signature, header, claims and the contract; a failure carries one of <see cref="DeliveryErrorCodes"/>.</summary>
    public DeliveryVerification Verify(string compactJws, ContractCatalog catalog, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(catalog);

        if (string.IsNullOrEmpty(compactJws) || compactJws.Length > DeliveryFormat.MaxCompactLength)
        {
            return Malformed($"A notice is a compact JWS of 1 to {DeliveryFormat.MaxCompactLength} characters.");
        }

        var firstDot = compactJws.IndexOf('.', StringComparison.Ordinal);
        var secondDot = firstDot < 0 ? -1 : compactJws.IndexOf('.', firstDot + 1);
        if (secondDot < 0 || compactJws.IndexOf('.', secondDot + 1) >= 0)
        {
            return Malformed("A notice is a compact JWS: three base64url segments separated by dots (encrypted tokens are not accepted).");
        }

        if (!TryDecode(compactJws.AsSpan(0, firstDot), out var headerBytes))
        {
            return Malformed("The JWS header segment is not valid base64url.");
        }

        var header = Parse(headerBytes, DeliveryJsonContext.Default.JoseHeaderDocument);
        if (header is null)
        {
            return Malformed("The JWS header is not a JSON object of the expected members.");
        }

        if (header.Alg is null)
        {
            return Malformed("The JWS header has no alg.");
        }

        if (!string.Equals(header.Alg, DeliveryFormat.Algorithm, StringComparison.Ordinal))
        {
            return DeliveryVerification.Fail(DeliveryErrorCodes.UnsupportedAlg, $"alg {Quote(header.Alg)} is not accepted: notices are signed with {DeliveryFormat.Algorithm}.");
        }

        // RFC 7515 §4.1.11: a recipient must refuse critical extensions it does not understand, and it understands none.
        if (header.Crit.ValueKind != JsonValueKind.Undefined)
        {
            return Malformed("The JWS header lists critical extensions (crit), which are not supported.");
        }

        if (!IsDeliveryType(header.Typ))
        {
            return Malformed($"The JWS header typ must be '{DeliveryFormat.Type}', not {Quote(header.Typ)}.");
        }

        if (header.Kid is null || !_keys.TryGetValue(header.Kid, out var key))
        {
            return DeliveryVerification.Fail(DeliveryErrorCodes.UnknownKey, $"No trusted clearing-house key has kid {Quote(header.Kid)}.");
        }

        if (!TryDecode(compactJws.AsSpan(firstDot + 1, secondDot - firstDot - 1), out var payloadBytes))
        {
            return Malformed("The JWS payload segment is not valid base64url.");
        }

        // An empty signature segment is a stripped token, not a malformed one: it is answered as a bad signature.
        var signatureSegment = compactJws.AsSpan(secondDot + 1);
        var signature = Array.Empty<byte>();
        if (!signatureSegment.IsEmpty && !TryDecode(signatureSegment, out signature))
        {
            return Malformed("The JWS signature segment is not valid base64url.");
        }

        if (!SignatureVerifies(key, Encoding.ASCII.GetBytes(compactJws, 0, secondDot), signature))
        {
            return DeliveryVerification.Fail(DeliveryErrorCodes.BadSignature, $"The signature does not verify with trusted key '{key.KeyId}'.");
        }

        // Only a signed payload is read: nothing the sender wrote is interpreted before it is known to be theirs.
        return VerifyClaims(payloadBytes, catalog, now);
    }

    private DeliveryVerification VerifyClaims(byte[] payloadBytes, ContractCatalog catalog, DateTimeOffset now)
    {
        var payload = Parse(payloadBytes, DeliveryJsonContext.Default.DeliveryPayloadDocument);
        if (payload is null)
        {
            return Malformed("The payload is not a JSON object of the expected claims and types.");
        }

        if (!IsId(payload.DeliveryId))
        {
            return Malformed($"delivery_id must be a string of 1 to {DeliveryFormat.MaxIdLength} characters without control characters.");
        }

        if (!IsId(payload.AccountId))
        {
            return Malformed($"account_id must be a string of 1 to {DeliveryFormat.MaxIdLength} characters without control characters.");
        }

        if (string.IsNullOrEmpty(payload.ContractId) || payload.ContractVersion is not { } version)
        {
            return Malformed("contract_id (string) and contract_version (integer) are required.");
        }

        if (payload.Quantity is not { ValueKind: JsonValueKind.String or JsonValueKind.Number } quantity)
        {
            return Malformed("quantity is required, as a JSON string (preferred) or number.");
        }

        if (!TryGetText(quantity, out var quantityText))
        {
            return Malformed("quantity is not a well-formed string (it escapes half of a UTF-16 surrogate pair).");
        }

        if (!Rfc3339.TryParse(payload.WindowStart, out var windowStart) || !Rfc3339.TryParse(payload.WindowEnd, out var windowEnd))
        {
            return Malformed("window_start and window_end must be RFC 3339 timestamps with an offset.");
        }

        if (payload.Iat is not { } iat || !IsNumericDate(iat))
        {
            return Malformed("iat must be a number of seconds since the Unix epoch.");
        }

        long? exp = null;
        if (payload.Exp.ValueKind != JsonValueKind.Undefined)
        {
            if (payload.Exp.ValueKind != JsonValueKind.Number || !payload.Exp.TryGetInt64(out var expSeconds) || !IsNumericDate(expSeconds))
            {
                return Malformed("exp, when present, must be a whole number of seconds since the Unix epoch.");
            }

            exp = expSeconds;
        }

        if (payload.Aud.ValueKind != JsonValueKind.Undefined)
        {
            if (!TryReadAudience(payload.Aud, out var audiences))
            {
                return Malformed("aud, when present, must be a string or an array of strings.");
            }

            if (_rules.Audience is null || !audiences.Contains(_rules.Audience, StringComparer.Ordinal))
            {
                return DeliveryVerification.Fail(
                    DeliveryErrorCodes.WrongAudience,
                    _rules.Audience is null
                        ? "The notice has an aud claim, but this agent has no provider id (Credits:ProviderId) to match it against."
                        : $"The notice is addressed to {Quote(string.Join(", ", audiences))}, not to this provider {Quote(_rules.Audience)}.");
            }
        }

        if (CheckTime(iat, exp, now) is { } timeFailure)
        {
            return timeFailure;
        }

        var spec = catalog.Find(payload.ContractId, version);
        if (spec is null)
        {
            return DeliveryVerification.Fail(DeliveryErrorCodes.UnknownContract, $"No contract {Quote(payload.ContractId)} version {version} is configured.");
        }

        if (!TryReadQuantity(quantityText, out var quantityMicro, out var quantityProblem))
        {
            return DeliveryVerification.Fail(DeliveryErrorCodes.InvalidQuantity, quantityProblem);
        }

        if (windowStart >= windowEnd)
        {
            return DeliveryVerification.Fail(DeliveryErrorCodes.InvalidWindow, $"window_start ({windowStart:O}) must be before window_end ({windowEnd:O}).");
        }

        if (windowStart < spec.DeliveryStart || windowEnd > spec.DeliveryEnd)
        {
            return DeliveryVerification.Fail(
                DeliveryErrorCodes.InvalidWindow,
                $"The window {windowStart:O}..{windowEnd:O} is not inside contract '{spec.Id}' v{spec.Version}'s delivery window {spec.DeliveryStart:O}..{spec.DeliveryEnd:O}.");
        }

        if (windowEnd <= now)
        {
            return DeliveryVerification.Fail(DeliveryErrorCodes.ExpiredWindow, $"The window ended at {windowEnd:O}: nothing is left to redeem.");
        }

        return DeliveryVerification.Ok(new DeliveryNotice(
            payload.DeliveryId,
            payload.ContractId,
            version,
            payload.AccountId,
            quantityMicro,
            windowStart,
            windowEnd,
            DateTimeOffset.FromUnixTimeSeconds(iat),
            Convert.ToHexStringLower(SHA256.HashData(payloadBytes))));
    }

    /// <summary>
    /// The quantity as sent: a string's value or a number's digits. Judged on this text, not a parsed value: a decimal
    /// parser rounds past 28 digits, and "1.0000000000000000000000000000001" must be refused as too precise, not accepted as 1.
    /// </summary>
    private static bool TryGetText(JsonElement element, out string text)
    {
        if (element.ValueKind != JsonValueKind.String)
        {
            text = element.GetRawText();
            return true;
        }

        try
        {
            text = element.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            // A lone escaped surrogate ("\ud800") is valid JSON syntax but no string; the serializer refuses it for typed members.
            text = string.Empty;
            return false;
        }
    }

    /// <summary>
    /// iat not ahead of the clock, exp and the max age not passed, each with the skew. Compared in whole seconds: for
    /// integer claims, comparing with the clock floored to the second gives the same answer as with the exact clock.
    /// </summary>
    private DeliveryVerification? CheckTime(long iat, long? exp, DateTimeOffset now)
    {
        var nowSeconds = now.ToUnixTimeSeconds();
        var skew = (long)_rules.ClockSkew.TotalSeconds;
        if (iat > nowSeconds + skew)
        {
            return DeliveryVerification.Fail(
                DeliveryErrorCodes.NotYetValid,
                $"iat {DateTimeOffset.FromUnixTimeSeconds(iat):O} is more than {_rules.ClockSkew} ahead of this agent's clock ({now:O}): one of the clocks is wrong.");
        }

        if (exp is { } expires && nowSeconds >= expires + skew)
        {
            return DeliveryVerification.Fail(
                DeliveryErrorCodes.Expired,
                $"The notice expired at {DateTimeOffset.FromUnixTimeSeconds(expires):O} (exp; allowed clock skew {_rules.ClockSkew}).");
        }

        if (_rules.MaxAge is { } maxAge && nowSeconds >= iat + (long)maxAge.TotalSeconds + skew)
        {
            return DeliveryVerification.Fail(
                DeliveryErrorCodes.Expired,
                $"The notice was issued at {DateTimeOffset.FromUnixTimeSeconds(iat):O}, more than {maxAge} ago (max age; allowed clock skew {_rules.ClockSkew}).");
        }

        return null;
    }

    private static bool IsNumericDate(long seconds) => seconds >= 0 && seconds <= DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    private static bool TryReadAudience(JsonElement aud, out List<string> audiences)
    {
        audiences = [];
        try
        {
            switch (aud.ValueKind)
            {
                case JsonValueKind.String:
                    audiences.Add(aud.GetString()!);
                    return true;
                case JsonValueKind.Array:
                    foreach (var item in aud.EnumerateArray())
                    {
                        if (item.ValueKind != JsonValueKind.String)
                        {
                            return false;
                        }

                        audiences.Add(item.GetString()!);
                    }

                    return audiences.Count > 0;
                default:
                    return false;
            }
        }
        catch (InvalidOperationException)
        {
            // A lone escaped surrogate: valid JSON syntax, but no string.
            return false;
        }
    }

    private static bool TryReadQuantity(string text, out long micro, out string problem)
    {
        micro = 0;
        if (!IsPlainDecimal(text, out var fractionDigits))
        {
            problem = $"quantity {Quote(text)} must be a decimal number of contract units in plain notation (digits, optional sign and fraction, no exponent).";
            return false;
        }

        if (fractionDigits > ContractSpecValidator.MaxDecimals)
        {
            problem = $"quantity {Quote(text)} has more than {ContractSpecValidator.MaxDecimals} decimals: the smallest amount is one micro-unit.";
            return false;
        }

        if (!decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            problem = $"quantity {Quote(text)} is too large.";
            return false;
        }

        if (value <= 0)
        {
            problem = $"quantity must be above 0, not {Quote(text)}.";
            return false;
        }

        try
        {
            micro = ContractUnits.ToMicro(value);
        }
        catch (ArgumentOutOfRangeException)
        {
            problem = $"quantity {Quote(text)} is too large.";
            return false;
        }

        if (micro > MaxQuantityMicro)
        {
            problem = $"quantity {Quote(text)} is too large: one delivery is at most {ContractUnits.FromMicro(MaxQuantityMicro).ToString(CultureInfo.InvariantCulture)} units.";
            return false;
        }

        problem = string.Empty;
        return true;
    }

    /// <summary>
    /// The largest delivery, 2^53 - 1 micro-units (about 9 billion units): exact in every store, the distributed one's
    /// Lua numbers included, so a delivery the embedded store takes is never refused by Redis, or the reverse.
    /// </summary>
    public const long MaxQuantityMicro = (1L << 53) - 1;

    /// <summary>Digits with an optional leading minus and fraction; counts fraction digits other than trailing zeros.</summary>
    private static bool IsPlainDecimal(string text, out int fractionDigits)
    {
        fractionDigits = 0;
        var i = text.StartsWith('-') ? 1 : 0;
        var integerDigits = 0;
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            integerDigits++;
            i++;
        }

        if (integerDigits == 0)
        {
            return false;
        }

        if (i == text.Length)
        {
            return true;
        }

        if (text[i] != '.' || i == text.Length - 1)
        {
            return false;
        }

        for (var j = i + 1; j < text.Length; j++)
        {
            if (!char.IsAsciiDigit(text[j]))
            {
                return false;
            }

            if (text[j] != '0')
            {
                fractionDigits = j - i;
            }
        }

        return true;
    }

    private static bool IsId([NotNullWhen(true)] string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > DeliveryFormat.MaxIdLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsDeliveryType(string? typ) =>
        // RFC 7515 §4.1.9: media types compare case-insensitively and "application/" may be omitted.
        string.Equals(typ, DeliveryFormat.Type, StringComparison.OrdinalIgnoreCase)
        || string.Equals(typ, "application/" + DeliveryFormat.Type, StringComparison.OrdinalIgnoreCase);

    private static bool SignatureVerifies(ECDsaSecurityKey key, byte[] signingInput, byte[] signature)
    {
        if (signature.Length == 0)
        {
            return false;
        }

        var factory = key.CryptoProviderFactory;
        var provider = factory.CreateForVerifying(key, SecurityAlgorithms.EcdsaSha256);
        try
        {
            return provider.Verify(signingInput, signature);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            // A signature of the wrong length or encoding is a wrong signature, not a server fault.
            return false;
        }
        finally
        {
            factory.ReleaseSignatureProvider(provider);
        }
    }

    private static T? Parse<T>(byte[] utf8Json, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(utf8Json, typeInfo);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool TryDecode(ReadOnlySpan<char> segment, out byte[] bytes)
    {
        bytes = [];
        if (segment.IsEmpty)
        {
            return false;
        }

        try
        {
            bytes = Base64Url.DecodeFromChars(segment);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static ECDsaSecurityKey ToSecurityKey(JsonWebKey jwk)
    {
        var kid = jwk.Kid;
        if (string.IsNullOrEmpty(kid))
        {
            throw new ArgumentException("Every trusted key needs a kid: notices name their key by it.", nameof(jwk));
        }

        if (jwk.Kty != JsonWebAlgorithmsKeyTypes.EllipticCurve || jwk.Crv != JsonWebKeyECTypes.P256)
        {
            throw new ArgumentException($"Trusted key '{kid}' must be an EC P-256 key (kty EC, crv P-256), not kty '{jwk.Kty}' crv '{jwk.Crv}'.", nameof(jwk));
        }

        if (!string.IsNullOrEmpty(jwk.D))
        {
            throw new ArgumentException($"Trusted key '{kid}' contains a private key (d): a trust file holds public keys only.", nameof(jwk));
        }

        if (jwk.Alg is { Length: > 0 } alg && alg != DeliveryFormat.Algorithm)
        {
            throw new ArgumentException($"Trusted key '{kid}' is for alg '{alg}', not {DeliveryFormat.Algorithm}.", nameof(jwk));
        }

        if (jwk.Use is { Length: > 0 } use && use != JsonWebKeyUseNames.Sig)
        {
            throw new ArgumentException($"Trusted key '{kid}' has use '{use}', not sig.", nameof(jwk));
        }

        if (!TryDecode(jwk.X, out var x) || !TryDecode(jwk.Y, out var y) || x.Length != 32 || y.Length != 32)
        {
            throw new ArgumentException($"Trusted key '{kid}' needs x and y as 32-byte base64url coordinates.", nameof(jwk));
        }

        var ecdsa = ECDsa.Create();
        try
        {
            // Importing checks the point is on the curve, so a corrupt key fails here at start-up, not at the first notice.
            ecdsa.ImportParameters(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = x, Y = y } });
        }
        catch (CryptographicException ex)
        {
            ecdsa.Dispose();
            throw new ArgumentException($"Trusted key '{kid}' is not a valid P-256 public key: {ex.Message}", nameof(jwk), ex);
        }

        return new ECDsaSecurityKey(ecdsa) { KeyId = kid };
    }

    private static bool TryDecode(string? text, out byte[] bytes)
    {
        bytes = [];
        return text is not null && TryDecode(text.AsSpan(), out bytes);
    }

    /// <summary>
    /// Sender-controlled text quoted in a message, which goes back in an HTTP response and into logs: shortened and
    /// stripped of control characters so a notice cannot forge log lines or bloat the answer.
    /// </summary>
    private static string Quote(string? text)
    {
        if (text is null)
        {
            return "(none)";
        }

        const int MaxQuoted = 64;
        var builder = new StringBuilder(Math.Min(text.Length, MaxQuoted) + 5).Append('\'');
        foreach (var c in text.Length > MaxQuoted ? text.AsSpan(0, MaxQuoted) : text.AsSpan())
        {
            builder.Append(char.IsControl(c) ? '?' : c);
        }

        return builder.Append(text.Length > MaxQuoted ? "...'" : "'").ToString();
    }

    private static DeliveryVerification Malformed(string message) => DeliveryVerification.Fail(DeliveryErrorCodes.Malformed, message);
}
