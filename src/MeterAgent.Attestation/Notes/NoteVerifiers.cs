namespace MeterAgent.Attestation.Notes;

/// <summary>
/// The keys a reader trusts. A key is known by its name and key ID together: a signature that shares only one of
/// them with a trusted key is some other key's and is ignored, as c2sp.org/signed-note requires.
/// </summary>
public sealed class NoteVerifiers
{
    private readonly Dictionary<(string Name, uint KeyId), NoteVerifier> _byKey = [];

    public NoteVerifiers(IEnumerable<NoteVerifier> verifiers)
    {
        ArgumentNullException.ThrowIfNull(verifiers);
        foreach (var verifier in verifiers)
        {
            ArgumentNullException.ThrowIfNull(verifier, nameof(verifiers));
            var key = (verifier.Name, verifier.KeyId);
            if (_byKey.TryGetValue(key, out var existing))
            {
                // Two different keys under one name and ID would make the outcome depend on which one is tried;
                // refusing the set is clearer than guessing (Go's VerifierList calls it an ambiguous key).
                if (!existing.PublicKey.SequenceEqual(verifier.PublicKey))
                {
                    throw new ArgumentException($"Two different keys are both named {verifier.Name}+{NoteKeyId.Format(verifier.KeyId)}.", nameof(verifiers));
                }

                continue;
            }

            _byKey.Add(key, verifier);
        }
    }

    public NoteVerifiers(params NoteVerifier[] verifiers)
        : this((IEnumerable<NoteVerifier>)verifiers)
    {
    }

    public int Count => _byKey.Count;

    public NoteVerifier? Find(string name, uint keyId) => _byKey.GetValueOrDefault((name, keyId));
}
