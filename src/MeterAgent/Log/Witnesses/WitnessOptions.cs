namespace MeterAgent.Log.Witnesses;

/// <summary>
/// Section "Attestation", its witness settings: the C2SP tlog-witness witnesses each checkpoint is sent to before it is
/// published. None by default: the checkpoint then carries the log's signature alone.
/// </summary>
public sealed class WitnessOptions
{
    public const string Section = LogOptions.Section;

    /// <summary>The witnesses, each asked to cosign every checkpoint; one that is down is skipped, not waited for.</summary>
    public IList<WitnessEndpoint> Witnesses { get; } = [];

    /// <summary>How long one witness may take to answer (both attempts, when it first answers 409).</summary>
    public TimeSpan WitnessTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>One witness: where it listens, and the key its cosignatures must verify with.</summary>
public sealed class WitnessEndpoint
{
    /// <summary>The witness's submission prefix (http or https); add-checkpoint is posted to <c>&lt;Url&gt;/add-checkpoint</c>.</summary>
    public string? Url { get; set; }

    /// <summary>The witness's cosigner vkey, <c>name+hash+base64(0x04 || public key)</c>.</summary>
    public string? VerifierKey { get; set; }
}
