using System.Text;
using MeterAgent.Attestation.Notes;

namespace MeterAgent.Attestation.Witnesses;

/// <summary>A witness's answer to add-checkpoint; the value is the HTTP status c2sp.org/tlog-witness prescribes.</summary>
public enum WitnessStatus
{
    /// <summary>Consistent with what the witness saw before: cosigned, and remembered as the latest.</summary>
    Cosigned = 200,

    /// <summary>Not a request body, not a checkpoint note, or an old size above the checkpoint's size.</summary>
    BadRequest = 400,

    /// <summary>No valid signature by the log's key (or a signature by it that fails).</summary>
    Forbidden = 403,

    /// <summary>The checkpoint's origin is not a log this witness serves.</summary>
    UnknownLog = 404,

    /// <summary>The old size is not the witness's latest cosigned size; the body says which it is.</summary>
    Conflict = 409,

    /// <summary>The proof does not verify: a forked or rewritten log (or a bad proof, or a non-empty empty tree).</summary>
    Unprocessable = 422,
}

/// <summary>
/// The outcome of one add-checkpoint: the status, a one-line reason for the witness's own log, and the body to send
/// (cosignature lines on 200, the witness's size on 409, the reason otherwise).
/// </summary>
public sealed record AddCheckpointResult
{
    private AddCheckpointResult(WitnessStatus status, string detail, IReadOnlyList<NoteSignature> cosignatures, long? latestSize, string? origin, long? treeSize)
    {
        Status = status;
        Detail = detail;
        Cosignatures = cosignatures;
        LatestSize = latestSize;
        Origin = origin;
        TreeSize = treeSize;
    }

    public WitnessStatus Status { get; }

    public string Detail { get; }

    /// <summary>On <see cref="WitnessStatus.Cosigned"/>: the witness's cosignature line(s).</summary>
    public IReadOnlyList<NoteSignature> Cosignatures { get; }

    /// <summary>On <see cref="WitnessStatus.Conflict"/>: the size of the latest checkpoint the witness cosigned.</summary>
    public long? LatestSize { get; }

    /// <summary>The checkpoint's origin and size once read (for the witness's log), else null.</summary>
    public string? Origin { get; }

    public long? TreeSize { get; }

    public int HttpStatus => (int)Status;

    public string ContentType => Status == WitnessStatus.Conflict ? TreeSizeText.ContentType : "text/plain; charset=utf-8";

    public byte[] Body() => Status switch
    {
        WitnessStatus.Cosigned => Encoding.UTF8.GetBytes(CosignatureV1.FormatLines(Cosignatures)),
        WitnessStatus.Conflict => TreeSizeText.FormatBody(LatestSize ?? 0),
        _ => Encoding.UTF8.GetBytes(Detail + "\n"),
    };

    internal static AddCheckpointResult Cosigned(NoteSignature cosignature, string origin, long treeSize) =>
        new(WitnessStatus.Cosigned, "cosigned", [cosignature], null, origin, treeSize);

    internal static AddCheckpointResult Conflict(long latestSize, string origin, long treeSize) =>
        new(WitnessStatus.Conflict, $"the old size is not {latestSize}, the latest size cosigned", [], latestSize, origin, treeSize);

    internal static AddCheckpointResult Refused(WitnessStatus status, string detail, string? origin = null, long? treeSize = null) =>
        new(status, detail, [], null, origin, treeSize);
}
