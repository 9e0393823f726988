namespace MeterAgent.Attestation.Notes;

/// <summary>
/// One signature line of a note, <c>— &lt;name&gt; &lt;base64(key ID || signature)&gt;</c>, verified or not. Kept as
/// its base64 so a signature by a key this process does not know (a witness cosignature) is passed on unchanged.
/// </summary>
public sealed record NoteSignature(string Name, uint KeyId, string Base64)
{
    /// <summary>The line as it appears in the note, newline included.</summary>
    public string ToLine() => $"{SignedNote.SignaturePrefix}{Name} {Base64}\n";

    public override string ToString() => $"{Name}+{NoteKeyId.Format(KeyId)}";
}
