namespace MeterAgent.Log;

/// <summary>
/// Section "Attestation": the usage log's signing key and who may read it. Off until a signing key is configured: the
/// log's entries are written either way (the store keeps them), only its signed head is not published.
/// </summary>
public sealed class LogOptions
{
    public const string Section = "Attestation";

    /// <summary>
    /// A file holding the log's signer key in the C2SP signed-note form (<c>PRIVATE+KEY+name+hash+base64</c>); its
    /// name is the log's origin; or an Ed25519 private key in PKCS#8 PEM, with <see cref="Origin"/>. Keep it 0600, like any secret.
    /// </summary>
    public string? SigningKeyPath { get; set; }

    /// <summary>
    /// The log's origin (its checkpoints' first line, its key's name). Required with a PEM key, which carries no name;
    /// with a signer key it must match the key's name when set.
    /// </summary>
    public string? Origin { get; set; }

    /// <summary>Bearer token the clearing house reads the log with (16 characters at least).</summary>
    public string? ReadToken { get; set; }

    /// <summary>
    /// How long after a settlement interval ends its statements close: records still open at the end (long streams)
    /// close within it and are counted in the interval's first statement; later ones go into a correcting statement.
    /// </summary>
    public TimeSpan StatementGrace { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The verifier keys (vkeys) the log signed with before the current one, each with the current key's name (the
    /// origin stays the same across a rotation). They are published with the current key so that checkpoints and
    /// statements signed before a rotation still verify.
    /// </summary>
    public List<string> PreviousKeys { get; set; } = [];

    /// <summary>
    /// How often a new checkpoint is published when the log has grown (default 5 s). A caller that needs a newer one
    /// (an inclusion proof of a fresh record) has it published on demand, so this bounds only how stale the served
    /// checkpoint may be.
    /// </summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(5);
}
