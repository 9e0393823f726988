using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using MeterAgent.Attestation.Notes;

namespace MeterAgent.Attestation.Witnesses;

/// <summary>
/// Timestamped Ed25519 checkpoint cosignatures, c2sp.org/tlog-cosignature (signature type 0x04): a witness's statement
/// that, at the time it names, the checkpoint was the largest consistent tree it had seen for the log. The witness
/// signs <c>cosignature/v1\ntime &lt;seconds&gt;\n</c> followed by the checkpoint text, never the bare text, so a
/// cosignature can not be replayed as the log's own signature (and the key ID, hashed with 0x04, differs too).
/// </summary>
public static class CosignatureV1
{
    /// <summary>The first line of the signed message: domain separation from every other use of the key.</summary>
    public const string Header = "cosignature/v1";

    /// <summary>Timestamp (u64, big-endian) and Ed25519 signature: what follows the key ID in a signature line.</summary>
    public const int SignatureLength = 8 + NoteVerifier.SignatureSize;

    /// <summary>A new witness key: the skey (secret) and the vkey a log or verifier is configured with.</summary>
    public static NoteKeyPair GenerateKey(string name) => NoteKeyPair.Generate(name, NoteKeyId.CosignatureV1SignatureType);

    /// <summary>Reads a witness's signer key, <c>PRIVATE+KEY+name+hash+base64(0x04 || seed)</c>.</summary>
    public static NoteSigner ParseSigner(string signerKey) => NoteSigner.Parse(signerKey, NoteKeyId.CosignatureV1SignatureType);

    /// <summary>Reads a witness's verifier key, <c>name+hash+base64(0x04 || public key)</c>.</summary>
    public static NoteVerifier ParseVerifier(string verifierKey) => NoteVerifier.Parse(verifierKey, NoteKeyId.CosignatureV1SignatureType);

    /// <summary>The signed message: the header line, <c>time &lt;timestamp&gt;</c>, then the checkpoint text.</summary>
    public static byte[] Message(string checkpointText, long timestamp)
    {
        ArgumentNullException.ThrowIfNull(checkpointText);
        ArgumentOutOfRangeException.ThrowIfNegative(timestamp);
        return Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{Header}\ntime {timestamp}\n{checkpointText}"));
    }

    /// <summary>
    /// Cosigns <paramref name="checkpointText"/> (a checkpoint note's text, final newline included) at
    /// <paramref name="timestamp"/> (POSIX seconds; a witness must not send 0).
    /// </summary>
    public static NoteSignature Sign(NoteSigner cosigner, string checkpointText, long timestamp)
    {
        ArgumentNullException.ThrowIfNull(cosigner);
        if (cosigner.SignatureType != NoteKeyId.CosignatureV1SignatureType)
        {
            throw new ArgumentException($"{cosigner} is not a cosigner key (signature type 0x04).", nameof(cosigner));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timestamp);
        var blob = new byte[4 + SignatureLength];
        BinaryPrimitives.WriteUInt32BigEndian(blob, cosigner.KeyId);
        BinaryPrimitives.WriteInt64BigEndian(blob.AsSpan(4), timestamp);
        cosigner.Sign(Message(checkpointText, timestamp)).CopyTo(blob, 12);
        return new NoteSignature(cosigner.Name, cosigner.KeyId, Convert.ToBase64String(blob));
    }

    /// <summary>Checks one signature line against a witness key; the timestamp is read only from a valid one.</summary>
    public static CosignatureCheck Verify(NoteVerifier cosigner, string checkpointText, NoteSignature signature, out long timestamp)
    {
        ArgumentNullException.ThrowIfNull(cosigner);
        ArgumentNullException.ThrowIfNull(checkpointText);
        ArgumentNullException.ThrowIfNull(signature);
        timestamp = 0;
        if (cosigner.SignatureType != NoteKeyId.CosignatureV1SignatureType || signature.Name != cosigner.Name || signature.KeyId != cosigner.KeyId)
        {
            return CosignatureCheck.OtherKey;
        }

        var blob = Convert.FromBase64String(signature.Base64);
        if (blob.Length != 4 + SignatureLength)
        {
            return CosignatureCheck.WrongLength;
        }

        // u64 on the wire; above 2^63 - 1 the spec forbids it.
        var time = BinaryPrimitives.ReadUInt64BigEndian(blob.AsSpan(4));
        if (time > long.MaxValue)
        {
            return CosignatureCheck.TimestampOutOfRange;
        }

        if (!cosigner.Verify(Message(checkpointText, (long)time), blob.AsSpan(12)))
        {
            return CosignatureCheck.BadSignature;
        }

        timestamp = (long)time;
        return CosignatureCheck.Valid;
    }

    /// <summary>
    /// The cosignatures on <paramref name="note"/> by the trusted witnesses, one per witness, following the signed-note
    /// rules: lines by other keys are ignored, and a trusted witness's line that fails throws (the note was altered).
    /// Unlike <see cref="SignedNote.Verify"/>, none is required: counting them against a quorum is the caller's policy.
    /// </summary>
    public static IReadOnlyList<Cosignature> VerifyAll(SignedNote note, NoteVerifiers witnesses)
    {
        ArgumentNullException.ThrowIfNull(note);
        ArgumentNullException.ThrowIfNull(witnesses);
        var found = new List<Cosignature>();
        foreach (var signature in note.Signatures)
        {
            if (witnesses.Find(signature.Name, signature.KeyId) is not { SignatureType: NoteKeyId.CosignatureV1SignatureType } witness)
            {
                continue;
            }

            var check = Verify(witness, note.Text, signature, out var timestamp);
            if (check != CosignatureCheck.Valid)
            {
                throw new NoteRejectedException(
                    NoteRejection.InvalidSignature, $"The cosignature by witness {signature} does not verify ({check}).");
            }

            if (!found.Any(c => c.Witness.KeyId == witness.KeyId && c.Witness.Name == witness.Name))
            {
                found.Add(new Cosignature(witness, timestamp, signature));
            }
        }

        return found;
    }

    /// <summary>
    /// Reads signature lines (a witness's add-checkpoint answer) as the spec suggests: appended to the checkpoint's
    /// text as a note, so they are held to exactly the signed-note syntax. Throws <see cref="NoteRejectedException"/>.
    /// </summary>
    public static IReadOnlyList<NoteSignature> ParseLines(string checkpointText, ReadOnlySpan<byte> lines)
    {
        ArgumentNullException.ThrowIfNull(checkpointText);
        var text = Encoding.UTF8.GetBytes(checkpointText + "\n");
        var note = SignedNote.Parse([.. text, .. lines]);

        // A blank line inside the answer would move the note's split: then part of the answer was read as text.
        if (note.Text != checkpointText)
        {
            throw new NoteRejectedException(NoteRejection.Malformed, "Malformed note: the answer holds a line that is not a signature line.");
        }

        return note.Signatures;
    }

    /// <summary>Signature lines, each <c>— name base64\n</c>, as a witness answers.</summary>
    public static string FormatLines(IEnumerable<NoteSignature> signatures)
    {
        ArgumentNullException.ThrowIfNull(signatures);
        return string.Concat(signatures.Select(s => s.ToLine()));
    }
}

/// <summary>One verified cosignature: which witness, and when it says it saw the checkpoint (POSIX seconds).</summary>
public sealed record Cosignature(NoteVerifier Witness, long Timestamp, NoteSignature Signature)
{
    public DateTimeOffset Time => DateTimeOffset.FromUnixTimeSeconds(Timestamp);
}

/// <summary>The outcome of checking one cosignature line; lines come from the network, so a bad one is an answer.</summary>
public enum CosignatureCheck
{
    Valid,

    /// <summary>The line's name or key ID is not this witness key's (or the key is not a cosigner key).</summary>
    OtherKey,

    /// <summary>Not a key ID, an 8-byte timestamp and a 64-byte signature.</summary>
    WrongLength,

    /// <summary>The timestamp exceeds 2^63 − 1, which the spec forbids.</summary>
    TimestampOutOfRange,

    /// <summary>The Ed25519 signature does not verify over the cosigned message.</summary>
    BadSignature,
}
