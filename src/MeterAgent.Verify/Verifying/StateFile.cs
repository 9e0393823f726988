using System.Globalization;
using MeterAgent.Attestation.Notes;

namespace MeterAgent.Verify.Verifying;

/// <summary>
/// The checkpoint a previous run verified, kept in <c>--state</c>: this run's tree must extend it (the same root at its
/// size), or the log showed two histories. The log's key is checked again, so the file proves what it says.
/// </summary>
internal static class StateFile
{
    /// <summary>The size of the saved checkpoint this run's tree extends, or null on a first run (no file yet).</summary>
    public static long? Check(string path, VerifiedCheckpoint current, VerifiedTree tree, IReadOnlyList<NoteVerifier> keys)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        var what = $"the checkpoint saved in {path}";
        var (saved, _, _) = CheckpointCheck.Open(File.ReadAllBytes(path), keys, what);
        var (origin, size) = (current.Checkpoint.Origin, current.Checkpoint.TreeSize);
        if (saved.Origin != origin)
        {
            throw new VerificationFault($"{what} is of log {saved.Origin}, not {origin}");
        }

        if (saved.TreeSize > size)
        {
            throw new VerificationFault(string.Create(CultureInfo.InvariantCulture,
                $"the log's checkpoint has size {size}, below the size {saved.TreeSize} of {what}: the log was rolled back or forked"));
        }

        var root = tree.Root(saved.TreeSize);
        if (!root.AsSpan().SequenceEqual(saved.RootHash))
        {
            throw new VerificationFault(saved.TreeSize == size
                ? string.Create(CultureInfo.InvariantCulture,
                    $"forked: {what} has size {size} and root {Convert.ToBase64String(saved.RootHash)}, the log's checkpoint of that size has root {Convert.ToBase64String(root)}")
                : string.Create(CultureInfo.InvariantCulture,
                    $"forked: the log's tree at size {saved.TreeSize} has root {Convert.ToBase64String(root)}, not {Convert.ToBase64String(saved.RootHash)} as in {what} (the log is not an extension of it)"));
        }

        return saved.TreeSize;
    }

    public static void Save(string path, byte[] note) => AtomicFile.Write(path, note);
}
