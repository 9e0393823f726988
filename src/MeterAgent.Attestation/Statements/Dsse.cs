using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MeterAgent.Attestation.Statements;

/// <summary>
/// DSSE (Dead Simple Signing Envelope, github.com/secure-systems-lab/dsse, protocol v1): the signature covers the
/// pre-authentication encoding of the payload type and the payload, never the JSON around them, so no canonical JSON is
/// needed to verify.
/// </summary>
public static class Dsse
{
    /// <summary>The in-toto attestation framework's payload type for a Statement.</summary>
    public const string InTotoPayloadType = "application/vnd.in-toto+json";

    /// <summary>PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in ASCII decimal bytes.</summary>
    public static byte[] PreAuthenticationEncoding(string payloadType, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(payloadType);
        var type = Encoding.UTF8.GetBytes(payloadType);
        var header = Encoding.ASCII.GetBytes(string.Create(
            CultureInfo.InvariantCulture, $"DSSEv1 {type.Length} {payloadType} {payload.Length} "));
        var pae = new byte[header.Length + payload.Length];
        header.CopyTo(pae, 0);
        payload.CopyTo(pae.AsSpan(header.Length));
        return pae;
    }

    /// <summary>Signs <paramref name="payload"/> and wraps it: {"payloadType", "payload" (base64), "signatures": [{"keyid", "sig"}]}.</summary>
    public static byte[] Sign(string payloadType, ReadOnlySpan<byte> payload, string keyId, Func<byte[], byte[]> sign)
    {
        ArgumentNullException.ThrowIfNull(sign);
        var signature = sign(PreAuthenticationEncoding(payloadType, payload));
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("payloadType", payloadType);
            json.WriteBase64String("payload", payload);
            json.WriteStartArray("signatures");
            json.WriteStartObject();
            json.WriteString("keyid", keyId);
            json.WriteBase64String("sig", signature);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// Opens an envelope: its payload when a signature by <paramref name="keyId"/> verifies over the PAE, else null and
    /// why. Signatures by other keys are ignored; the payload type must be <paramref name="expectedType"/>.
    /// </summary>
    public static (byte[]? Payload, string? Failure) Open(
        ReadOnlySpan<byte> envelope, string expectedType, string keyId, Func<byte[], byte[], bool> verify)
    {
        ArgumentNullException.ThrowIfNull(verify);
        try
        {
            using var document = JsonDocument.Parse(envelope.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("payloadType", out var typeElement) || typeElement.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("payload", out var payloadElement) || payloadElement.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("signatures", out var signatures) || signatures.ValueKind != JsonValueKind.Array)
            {
                return (null, "not a DSSE envelope (payloadType, payload and signatures are required)");
            }

            if (typeElement.GetString() != expectedType)
            {
                return (null, $"payload type '{typeElement.GetString()}' is not '{expectedType}'");
            }

            var payload = payloadElement.GetBytesFromBase64();
            var pae = PreAuthenticationEncoding(expectedType, payload);
            foreach (var signature in signatures.EnumerateArray())
            {
                if (signature.ValueKind == JsonValueKind.Object
                    && signature.TryGetProperty("keyid", out var id) && id.ValueKind == JsonValueKind.String && id.GetString() == keyId
                    && signature.TryGetProperty("sig", out var sig) && sig.ValueKind == JsonValueKind.String
                    && sig.TryGetBytesFromBase64(out var bytes) && verify(pae, bytes))
                {
                    return (payload, null);
                }
            }

            return (null, $"no valid signature by key '{keyId}'");
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            return (null, $"not a DSSE envelope: {ex.Message}");
        }
    }
}
