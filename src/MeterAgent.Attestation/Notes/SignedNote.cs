using System.Buffers.Binary;
using System.Text;

namespace MeterAgent.Attestation.Notes;

/// <summary>
/// A c2sp.org/signed-note: a UTF-8 text ending in a newline, a blank line, then one or more lines
/// <c>— &lt;key name&gt; &lt;base64(4-byte key ID || signature)&gt;</c>. <see cref="Parse"/> only reads the
/// structure; nothing in the text may be used until <see cref="Verify"/> (or <see cref="Open"/>) has found a trusted
/// signature.
/// </summary>
public sealed class SignedNote
{
    /// <summary>
    /// The spec asks readers to cap signatures and to accept at least 16; 100 is Go's cap, so any note Go's
    /// sumdb/note accepts is accepted here.
    /// </summary>
    public const int MaxSignatures = 100;

    internal const string SignaturePrefix = "\u2014 ";

    // Decoding must fail on bad UTF-8, not substitute U+FFFD: the signature covers the bytes, not a repaired text.
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private SignedNote(string text, IReadOnlyList<NoteSignature> signatures)
    {
        Text = text;
        Signatures = signatures;
    }

    /// <summary>The text, final newline included (the separating blank line is not part of it).</summary>
    public string Text { get; }

    /// <summary>Every signature line, unverified, in note order.</summary>
    public IReadOnlyList<NoteSignature> Signatures { get; }

    /// <summary>Signs <paramref name="text"/> with each signer, in order.</summary>
    public static SignedNote Sign(string text, params IEnumerable<NoteSigner> signers)
    {
        ArgumentNullException.ThrowIfNull(text);
        RequireValidText(text);
        return new SignedNote(text, []).AddSignatures(signers);
    }

    /// <summary>
    /// This note with more signatures (a second log key adding its own). A signature already present from the same key
    /// (name and ID) is replaced rather than repeated. Only note keys (0x01) sign here: a witness's cosignature signs
    /// a different message (<c>CosignatureV1.Sign</c>) and is added with <see cref="WithSignatures"/>.
    /// </summary>
    public SignedNote AddSignatures(params IEnumerable<NoteSigner> signers)
    {
        ArgumentNullException.ThrowIfNull(signers);
        var textBytes = Encoding.UTF8.GetBytes(Text);
        var added = new List<NoteSignature>();
        foreach (var signer in signers)
        {
            ArgumentNullException.ThrowIfNull(signer, nameof(signers));
            if (signer.SignatureType != NoteKeyId.Ed25519SignatureType)
            {
                throw new ArgumentException(
                    $"{signer} is a cosigner key (signature type 0x{signer.SignatureType:x2}): it cosigns with CosignatureV1.Sign.", nameof(signers));
            }

            var line = new byte[4 + NoteVerifier.SignatureSize];
            BinaryPrimitives.WriteUInt32BigEndian(line, signer.KeyId);
            signer.Sign(textBytes).CopyTo(line, 4);
            added.Add(new NoteSignature(signer.Name, signer.KeyId, Convert.ToBase64String(line)));
        }

        return WithSignatures(added);
    }

    /// <summary>
    /// This note with signature lines made elsewhere (a witness's cosignatures), unchecked: whoever reads the note
    /// verifies them. A signature already present from the same key (name and ID) is replaced rather than repeated.
    /// </summary>
    public SignedNote WithSignatures(IEnumerable<NoteSignature> signatures)
    {
        ArgumentNullException.ThrowIfNull(signatures);
        var added = signatures.ToList();
        var kept = Signatures.Where(s => !added.Any(a => a.Name == s.Name && a.KeyId == s.KeyId));
        var all = kept.Concat(added).ToList();
        if (all.Count > MaxSignatures)
        {
            throw new InvalidOperationException($"A note carries at most {MaxSignatures} signatures.");
        }

        return new SignedNote(Text, all);
    }

    /// <summary>Reads the structure of a note without trusting it; a <see cref="NoteRejectedException"/> says what is wrong.</summary>
    public static SignedNote Parse(ReadOnlySpan<byte> note)
    {
        string message;
        try
        {
            message = StrictUtf8.GetString(note);
        }
        catch (DecoderFallbackException)
        {
            throw NoteRejectedException.Malformed("it is not valid UTF-8");
        }

        if (FindControlCharacter(message) is { } bad)
        {
            throw NoteRejectedException.Malformed($"it contains the control character U+{(int)bad:X4}; only newline is allowed");
        }

        // The text may hold blank lines of its own; the signatures start after the last one.
        var split = message.LastIndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0)
        {
            throw NoteRejectedException.Malformed("there is no blank line between the text and the signatures");
        }

        var text = message[..(split + 1)];
        var block = message[(split + 2)..];
        if (block.Length == 0)
        {
            throw NoteRejectedException.Malformed("there are no signature lines after the blank line");
        }

        if (block[^1] != '\n')
        {
            throw NoteRejectedException.Malformed("the last signature line does not end with a newline");
        }

        var lines = block[..^1].Split('\n');
        if (lines.Length > MaxSignatures)
        {
            throw NoteRejectedException.Malformed($"it has {lines.Length} signature lines; at most {MaxSignatures} are read");
        }

        var signatures = new List<NoteSignature>(lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            signatures.Add(ParseSignatureLine(lines[i], i + 1));
        }

        return new SignedNote(text, signatures);
    }

    /// <summary>
    /// Checks the signatures against the trusted keys. Signatures by other keys are ignored (kept in
    /// <see cref="VerifiedNote.OtherSignatures"/>); a trusted key's signature that fails rejects the whole note; at
    /// least one trusted signature must verify. Only note keys (0x01) are checked here: cosignatures (0x04) sign
    /// another message and are left in <see cref="VerifiedNote.OtherSignatures"/> for <c>CosignatureV1.Verify</c>.
    /// </summary>
    public VerifiedNote Verify(NoteVerifiers verifiers)
    {
        ArgumentNullException.ThrowIfNull(verifiers);
        var textBytes = Encoding.UTF8.GetBytes(Text);
        var verified = new List<NoteSignature>();
        var others = new List<NoteSignature>();
        foreach (var signature in Signatures)
        {
            var verifier = verifiers.Find(signature.Name, signature.KeyId);
            if (verifier is null || verifier.SignatureType != NoteKeyId.Ed25519SignatureType)
            {
                if (!others.Contains(signature))
                {
                    others.Add(signature);
                }

                continue;
            }

            // Every copy is checked, not just the first: a repeated line must not carry an unchecked forgery.
            var bytes = Convert.FromBase64String(signature.Base64);
            if (!verifier.Verify(textBytes, bytes.AsSpan(4)))
            {
                throw new NoteRejectedException(
                    NoteRejection.InvalidSignature,
                    $"The signature by trusted key {signature} does not verify: the note was altered or forged.");
            }

            if (!verified.Any(v => v.Name == signature.Name && v.KeyId == signature.KeyId))
            {
                verified.Add(signature);
            }
        }

        if (verified.Count == 0)
        {
            var seen = Signatures.Count == 0 ? "none" : string.Join(", ", Signatures.Select(s => s.ToString()).Distinct());
            throw new NoteRejectedException(
                NoteRejection.NoTrustedSignature,
                $"The note has no signature by a trusted key (signed by: {seen}; trusted: {verifiers.Count} key(s)).");
        }

        return new VerifiedNote(Text, verified, others);
    }

    /// <summary><see cref="Parse"/> then <see cref="Verify"/>.</summary>
    public static VerifiedNote Open(ReadOnlySpan<byte> note, NoteVerifiers verifiers) => Parse(note).Verify(verifiers);

    /// <summary>The note as UTF-8 bytes, ready to serve.</summary>
    public byte[] Encode() => Encoding.UTF8.GetBytes(ToString());

    public override string ToString()
    {
        var note = new StringBuilder(Text).Append('\n');
        foreach (var signature in Signatures)
        {
            note.Append(signature.ToLine());
        }

        return note.ToString();
    }

    private static void RequireValidText(string text)
    {
        if (text.Length == 0 || text[^1] != '\n')
        {
            throw new ArgumentException("A note text ends with a newline.", nameof(text));
        }

        if (FindControlCharacter(text) is { } bad)
        {
            throw new ArgumentException(
                $"A note text holds no control characters other than newline; it has U+{(int)bad:X4}.", nameof(text));
        }

        try
        {
            _ = StrictUtf8.GetByteCount(text);
        }
        catch (EncoderFallbackException)
        {
            throw new ArgumentException("The text has an unpaired surrogate: it has no UTF-8 form.", nameof(text));
        }
    }

    private static char? FindControlCharacter(string text)
    {
        foreach (var c in text)
        {
            if (c < 0x20 && c != '\n')
            {
                return c;
            }
        }

        return null;
    }

    private static NoteSignature ParseSignatureLine(string line, int number)
    {
        if (!line.StartsWith(SignaturePrefix, StringComparison.Ordinal))
        {
            throw NoteRejectedException.Malformed(
                $"signature line {number} does not start with an em dash (U+2014) and a space");
        }

        var rest = line[SignaturePrefix.Length..];
        var space = rest.IndexOf(' ', StringComparison.Ordinal);
        if (space < 0)
        {
            throw NoteRejectedException.Malformed($"signature line {number} has no space between key name and signature");
        }

        var name = rest[..space];
        var base64 = rest[(space + 1)..];
        if (!NoteKeyName.IsValid(name))
        {
            throw NoteRejectedException.Malformed(
                $"signature line {number} has an invalid key name {NoteKeyName.Quote(name)}");
        }

        if (!StrictBase64.TryDecode(base64, out var bytes))
        {
            throw NoteRejectedException.Malformed($"signature line {number} is not standard padded base64 after the key name");
        }

        if (bytes.Length < 5)
        {
            throw NoteRejectedException.Malformed(
                $"signature line {number} is {bytes.Length} bytes; a key ID and a signature take at least 5");
        }

        return new NoteSignature(name, BinaryPrimitives.ReadUInt32BigEndian(bytes), base64);
    }
}
