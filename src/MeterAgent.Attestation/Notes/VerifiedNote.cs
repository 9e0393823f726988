namespace MeterAgent.Attestation.Notes;

/// <summary>
/// A note whose text is vouched for by at least one trusted key. <see cref="OtherSignatures"/> are by keys the reader
/// did not name (witness cosignatures, a rotated-in log key): unchecked, kept for whoever does know them.
/// </summary>
public sealed class VerifiedNote
{
    internal VerifiedNote(string text, IReadOnlyList<NoteSignature> verified, IReadOnlyList<NoteSignature> others)
    {
        Text = text;
        VerifiedSignatures = verified;
        OtherSignatures = others;
    }

    /// <summary>The signed text, final newline included.</summary>
    public string Text { get; }

    public IReadOnlyList<NoteSignature> VerifiedSignatures { get; }

    public IReadOnlyList<NoteSignature> OtherSignatures { get; }
}
