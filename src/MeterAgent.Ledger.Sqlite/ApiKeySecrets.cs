using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Key material. A secret is 256 random bits, so its SHA-256 needs no slow KDF (bcrypt, Argon2): those defend
/// low-entropy passwords against guessing, and guessing 2^256 secrets is infeasible however fast the hash. A fast
/// hash keeps authentication cheap on every request.
/// </summary>
internal static class ApiKeySecrets
{
    public const string SecretPrefix = "ma-";
    public const int DisplayPrefixLength = 8;

    private const int SecretBytes = 32;

    // "ma-" + base64url of 32 bytes without padding.
    private static readonly int SecretLength = SecretPrefix.Length + Base64Url.GetEncodedLength(SecretBytes);

    public static string NewSecret()
    {
        Span<byte> random = stackalloc byte[SecretBytes];
        RandomNumberGenerator.Fill(random);
        return SecretPrefix + Base64Url.EncodeToString(random);
    }

    public static string NewKeyId() => "key_" + RandomNumberGenerator.GetHexString(16, lowercase: true);

    public static string NewAccountId() => "acct_" + RandomNumberGenerator.GetHexString(16, lowercase: true);

    public static string DisplayPrefix(string secret) => secret[..DisplayPrefixLength];

    /// <summary>False for anything that cannot be one of our secrets, so garbage never reaches the cache or the database.</summary>
    public static bool HasSecretShape(ReadOnlySpan<char> presented) =>
        presented.Length == SecretLength && presented.StartsWith(SecretPrefix, StringComparison.Ordinal);

    /// <summary>Characters of a secret's hash in hex: the key cache's key and the stored key_hash.</summary>
    public const int HashHexLength = 2 * SHA256.HashSizeInBytes;

    /// <summary>
    /// The secret's SHA-256 into <paramref name="hash"/> and its lower-case hex into <paramref name="hex"/>
    /// (<see cref="HashHexLength"/> characters), allocating nothing: what authentication looks up the key cache by.
    /// </summary>
    public static void Hash(ReadOnlySpan<char> secret, Span<byte> hash, Span<char> hex)
    {
        Hash(secret, hash);
        Convert.TryToHexStringLower(hash, hex, out _);
    }

    public static string HashHex(string secret)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Hash(secret, hash);
        return Convert.ToHexStringLower(hash);
    }

    public static void Hash(ReadOnlySpan<char> secret, Span<byte> destination)
    {
        var byteCount = Encoding.UTF8.GetByteCount(secret);
        Span<byte> utf8 = byteCount <= 256 ? stackalloc byte[256] : new byte[byteCount];
        var written = Encoding.UTF8.GetBytes(secret, utf8);
        SHA256.HashData(utf8[..written], destination);
        CryptographicOperations.ZeroMemory(utf8[..written]);
    }
}
