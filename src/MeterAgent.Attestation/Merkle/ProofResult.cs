namespace MeterAgent.Attestation.Merkle;

/// <summary>
/// The outcome of checking a proof. Proofs arrive from the network, so a bad one is an answer, not an exception.
/// </summary>
public enum ProofResult
{
    /// <summary>The proof holds.</summary>
    Valid,

    /// <summary>Inclusion: the leaf index is negative or not below the tree size.</summary>
    IndexOutOfRange,

    /// <summary>A tree size is negative, or (consistency) the old size exceeds the new one.</summary>
    SizeOutOfRange,

    /// <summary>A leaf hash or root is not 32 bytes.</summary>
    WrongHashLength,

    /// <summary>The proof is not the number of 32-byte hashes RFC 9162 prescribes for these sizes (or not whole hashes).</summary>
    WrongProofLength,

    /// <summary>Inclusion: the leaf and path do not hash to the root.</summary>
    RootMismatch,

    /// <summary>Consistency: the proof does not rebuild the old root (or, for equal or empty old sizes, it differs).</summary>
    OldRootMismatch,

    /// <summary>
    /// Consistency: the proof rebuilds the old root but not the new one. When the old size is a power of two the old
    /// root is itself the start of the path, so a wrong old root is reported here too.
    /// </summary>
    NewRootMismatch,
}
