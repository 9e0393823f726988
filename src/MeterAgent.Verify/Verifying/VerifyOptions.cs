using MeterAgent.Attestation.Notes;

namespace MeterAgent.Verify.Verifying;

/// <summary>What <c>verify</c> was asked to check, read from its command line.</summary>
/// <param name="Source">an http(s) base URL (the management port) or a directory with the same relative paths</param>
/// <param name="Keys">the log's keys, current first: the checkpoint and every statement must be signed by one</param>
/// <param name="Token">the clearing house's read token, for a URL source</param>
/// <param name="StatePath">where the checkpoint of the previous run is kept, for consistency between runs</param>
/// <param name="Witnesses">witness cosigner keys</param>
/// <param name="Quorum">how many of <paramref name="Witnesses"/> must have cosigned the checkpoint</param>
internal sealed record VerifyOptions(
    string Source,
    IReadOnlyList<NoteVerifier> Keys,
    string? Token,
    string? StatePath,
    IReadOnlyList<NoteVerifier> Witnesses,
    int Quorum);
