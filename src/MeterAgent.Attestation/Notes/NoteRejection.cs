namespace MeterAgent.Attestation.Notes;

/// <summary>Why a note was refused, so a caller can tell a forgery from a configuration problem.</summary>
public enum NoteRejection
{
    /// <summary>Not a signed note: bad UTF-8, a control character, no blank line, a bad signature line.</summary>
    Malformed,

    /// <summary>Well-formed, but no signature is by a trusted key.</summary>
    NoTrustedSignature,

    /// <summary>A signature by a trusted key (name and key ID) does not verify: the note is forged or altered.</summary>
    InvalidSignature,
}
