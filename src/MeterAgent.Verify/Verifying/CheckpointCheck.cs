using MeterAgent.Attestation.Checkpoints;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Witnesses;

namespace MeterAgent.Verify.Verifying;

/// <summary>The log's latest checkpoint, signed by one of its keys and cosigned by a quorum of the given witnesses.</summary>
internal sealed record VerifiedCheckpoint(Checkpoint Checkpoint, byte[] Note, NoteSignature LogSignature, IReadOnlyList<Cosignature> Cosignatures);

internal static class CheckpointCheck
{
    public const string Path = "log/checkpoint";

    public static async Task<VerifiedCheckpoint> RunAsync(ILogSource source, VerifyOptions options, CancellationToken cancellationToken)
    {
        var bytes = await source.GetAsync(Path, cancellationToken) ?? throw new VerificationFault($"{Path} is missing");
        var (checkpoint, note, signature) = Open(bytes, options.Keys, "the checkpoint");

        IReadOnlyList<Cosignature> cosignatures = [];
        if (options.Witnesses.Count > 0)
        {
            try
            {
                cosignatures = CosignatureV1.VerifyAll(note, new NoteVerifiers(options.Witnesses));
            }
            catch (NoteRejectedException ex)
            {
                throw new VerificationFault($"the checkpoint's witness cosignatures: {ex.Message}");
            }

            if (cosignatures.Count < options.Quorum)
            {
                var signed = cosignatures.Count == 0 ? "none" : string.Join(", ", cosignatures.Select(c => c.Witness.Name));
                throw new VerificationFault(
                    $"the checkpoint is cosigned by {cosignatures.Count} of the {options.Witnesses.Count} witnesses ({signed}); the quorum is {options.Quorum}");
            }
        }

        return new VerifiedCheckpoint(checkpoint, bytes, signature, cosignatures);
    }

    /// <summary>A checkpoint note signed by one of <paramref name="keys"/>; <paramref name="what"/> names it in a fault.</summary>
    public static (Checkpoint Checkpoint, SignedNote Note, NoteSignature Signature) Open(byte[] bytes, IReadOnlyList<NoteVerifier> keys, string what)
    {
        SignedNote note;
        VerifiedNote verified;
        try
        {
            note = SignedNote.Parse(bytes);
            verified = note.Verify(new NoteVerifiers(keys));
        }
        catch (NoteRejectedException ex)
        {
            throw new VerificationFault(ex.Rejection switch
            {
                NoteRejection.NoTrustedSignature => $"{what} is not signed by the log key: {ex.Message}",
                NoteRejection.InvalidSignature => $"{what}'s signature by the log key does not verify: {ex.Message}",
                _ => $"{what} is not a signed note: {ex.Message}",
            });
        }

        try
        {
            return (Checkpoint.Parse(verified.Text), note, verified.VerifiedSignatures[0]);
        }
        catch (FormatException ex)
        {
            throw new VerificationFault($"{what} is signed but not a checkpoint: {ex.Message}");
        }
    }
}
