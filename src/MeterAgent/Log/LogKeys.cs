using MeterAgent.Attestation.Notes;
using Microsoft.Extensions.Options;

namespace MeterAgent.Log;

/// <summary>
/// The log's key. Read on first use, after start-up validation has checked it, so a bad key stops start-up with the
/// validator's message rather than a parse error here.
/// </summary>
internal sealed class LogKeys(IOptions<LogOptions> options)
{
    private readonly Lazy<NoteSigner?> _signer = new(() => options.Value.SigningKeyPath is { Length: > 0 } path
        ? NoteSigner.Parse(File.ReadAllText(path).Trim())
        : null);

    /// <summary>The current signing key; null when the log is not signed (no Attestation:SigningKeyPath).</summary>
    public NoteSigner? Signer => _signer.Value;
}
