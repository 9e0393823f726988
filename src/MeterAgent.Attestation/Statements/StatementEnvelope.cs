using MeterAgent.Attestation.Notes;

namespace MeterAgent.Attestation.Statements;

/// <summary>
/// A statement signed with the log's own key: a DSSE envelope (payload type <see cref="Dsse.InTotoPayloadType"/>)
/// whose signature's key id is the key's verifier key (<c>name+hash+base64</c>), so one published key checks both
/// the checkpoints and the statements.
/// </summary>
public static class StatementEnvelope
{
    public static byte[] Sign(UsageStatement statement, NoteSigner signer)
    {
        ArgumentNullException.ThrowIfNull(signer);
        return Dsse.Sign(Dsse.InTotoPayloadType, StatementFormat.Write(statement), signer.Verifier.VerifierKey, message => signer.Sign(message));
    }

    /// <summary>The statement when the envelope carries a valid signature by <paramref name="verifier"/>; else null and why.</summary>
    public static (UsageStatement? Statement, string? Failure) Open(ReadOnlySpan<byte> envelope, NoteVerifier verifier)
    {
        ArgumentNullException.ThrowIfNull(verifier);
        var (payload, failure) = Dsse.Open(envelope, Dsse.InTotoPayloadType, verifier.VerifierKey, (message, signature) => verifier.Verify(message, signature));
        if (payload is null)
        {
            return (null, failure);
        }

        try
        {
            return (StatementFormat.Read(payload), null);
        }
        catch (FormatException ex)
        {
            return (null, ex.Message);
        }
    }
}
