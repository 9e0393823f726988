using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace MeterAgent.Contracts.Deliveries;

/// <summary>
/// Signs delivery notices as a clearing house would: for tests, the demo and the clearing-house simulator. MeterAgent
/// itself never signs deliveries; it only verifies them.
/// </summary>
public sealed class DeliverySigner : IDisposable
{
    private readonly ECDsa _key;
    private readonly ECDsaSecurityKey _securityKey;
    private readonly string _encodedHeader;

    // '+' in the typ would otherwise be written as \u002B: valid, but not what anyone reading a header expects.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Signs with a P-256 private key under the given kid; the signer owns the key and disposes it.</summary>
    public DeliverySigner(ECDsa privateKey, string kid)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        ArgumentException.ThrowIfNullOrEmpty(kid);
        if (privateKey.KeySize != 256)
        {
            throw new ArgumentException("Delivery notices are signed with a P-256 key (ES256).", nameof(privateKey));
        }

        _key = privateKey;
        _securityKey = new ECDsaSecurityKey(privateKey) { KeyId = kid };
        KeyId = kid;
        _encodedHeader = Encode(WriteJson(writer =>
        {
            writer.WriteString("alg", DeliveryFormat.Algorithm);
            writer.WriteString("kid", kid);
            writer.WriteString("typ", DeliveryFormat.Type);
        }));

        var q = privateKey.ExportParameters(includePrivateParameters: false).Q;
        PublicJwksJson = JsonSerializer.Serialize(
            new JwksDocument([new PublicEcJwk("EC", "P-256", kid, "sig", DeliveryFormat.Algorithm, Base64Url.EncodeToString(q.X), Base64Url.EncodeToString(q.Y))]),
            DeliveryJsonContext.Default.JwksDocument);
    }

    public string KeyId { get; }

    /// <summary>The public key as a JWK Set, ready to be written to the verifier's trusted keys file.</summary>
    public string PublicJwksJson { get; }

    /// <summary>A signer with a fresh P-256 key, and the public key set that trusts it.</summary>
    public static (DeliverySigner Signer, JsonWebKeySet PublicKeys) CreateNew(string kid)
    {
        var signer = new DeliverySigner(ECDsa.Create(ECCurve.NamedCurves.nistP256), kid);
        return (signer, new JsonWebKeySet(signer.PublicJwksJson));
    }

    /// <summary>A compact JWS of the claims in the documented payload shape.</summary>
    public string Sign(DeliveryNoticeClaims claims)
    {
        ArgumentNullException.ThrowIfNull(claims);
        return SignPayload(WriteJson(writer =>
        {
            writer.WriteString("delivery_id", claims.DeliveryId);
            writer.WriteString("contract_id", claims.ContractId);
            writer.WriteNumber("contract_version", claims.ContractVersion);
            writer.WriteString("account_id", claims.AccountId);
            writer.WriteString("quantity", claims.Quantity.ToString(CultureInfo.InvariantCulture));
            writer.WriteString("window_start", Timestamp(claims.WindowStart));
            writer.WriteString("window_end", Timestamp(claims.WindowEnd));
            writer.WriteNumber("iat", claims.IssuedAt.ToUnixTimeSeconds());
        }));
    }

    /// <summary>Signs arbitrary payload bytes as they are: lets a simulator or a test send what a faulty clearing house might.</summary>
    public string SignPayload(ReadOnlySpan<byte> payload) => SignEncoded(_encodedHeader, payload);

    /// <summary>Signs under a header of the caller's choosing: only tests need a genuine signature over a wrong header.</summary>
    internal string SignWithHeader(string headerJson, string payloadJson) =>
        SignEncoded(Encode(Encoding.UTF8.GetBytes(headerJson)), Encoding.UTF8.GetBytes(payloadJson));

    private string SignEncoded(string encodedHeader, ReadOnlySpan<byte> payload)
    {
        var signingInput = encodedHeader + "." + Encode(payload);
        var factory = _securityKey.CryptoProviderFactory;
        var provider = factory.CreateForSigning(_securityKey, SecurityAlgorithms.EcdsaSha256);
        try
        {
            return signingInput + "." + Encode(provider.Sign(Encoding.ASCII.GetBytes(signingInput)));
        }
        finally
        {
            factory.ReleaseSignatureProvider(provider);
        }
    }

    /// <summary>Signs a JSON payload given as text (UTF-8).</summary>
    public string SignPayload(string payloadJson)
    {
        ArgumentNullException.ThrowIfNull(payloadJson);
        return SignPayload(Encoding.UTF8.GetBytes(payloadJson));
    }

    public void Dispose() => _key.Dispose();

    private static string Timestamp(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    private static string Encode(ReadOnlySpan<byte> bytes) => Base64Url.EncodeToString(bytes);

    private static byte[] WriteJson(Action<Utf8JsonWriter> writeMembers)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writeMembers(writer);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
