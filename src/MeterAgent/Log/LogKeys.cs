using MeterAgent.Attestation.Notes;
using Microsoft.Extensions.Options;

namespace MeterAgent.Log;

/// <summary>
/// The log's keys: the signer it signs with now, and the verifier keys it signed with before (Attestation:PreviousKeys),
/// which stay published so that what they signed still verifies. Read on first use, after start-up validation has
/// checked them, so a bad key stops start-up with the validator's message rather than a parse error here.
/// </summary>
internal sealed class LogKeys(IOptions<LogOptions> options)
{
    private readonly Lazy<NoteSigner?> _signer = new(() => options.Value.SigningKeyPath is { Length: > 0 }
        ? LogSigningKey.Load(options.Value)
        : null);

    private readonly Lazy<NoteVerifier[]> _previous = new(() => [.. options.Value.PreviousKeys.Select(key => NoteVerifier.Parse(key.Trim()))]);

    /// <summary>The current signing key; null when the log is not signed (no Attestation:SigningKeyPath).</summary>
    public NoteSigner? Signer => _signer.Value;

    /// <summary>The log's origin: the current key's name, which every previous key shares.</summary>
    public string? Origin => Signer?.Name;

    /// <summary>Every key the log has signed with, current first (empty when the log is not signed).</summary>
    public IReadOnlyList<NoteVerifier> All => Signer is { } signer ? [signer.Verifier, .. _previous.Value] : [];
}
