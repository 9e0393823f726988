using System.Security.Cryptography;
using System.Text;
using MeterAgent.Attestation.Checkpoints;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Witnesses;

namespace MeterAgent.Verify.Witnessing;

/// <summary>
/// A witness's state on disk: per log, the latest cosigned checkpoint note in <c>&lt;SHA-256 of the origin, hex&gt;.checkpoint</c>,
/// replaced atomically (written beside it, flushed, renamed over it), so a crash or restart never loses or halves it. A
/// file that cannot be read stops the witness rather than be taken for "never seen": that would let a fork through.
/// </summary>
internal sealed class FileWitnessState : IWitnessState
{
    private readonly string _directory;

    public FileWitnessState(string directory)
    {
        _directory = Path.GetFullPath(directory);
        Directory.CreateDirectory(_directory);
    }

    /// <summary>The origin's name on disk and in the monitoring URL: SHA-256 of the origin, lowercase hex.</summary>
    public static string OriginHash(string origin) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(origin)));

    public async Task<WitnessedCheckpoint?> ReadAsync(string origin, CancellationToken cancellationToken)
    {
        var path = PathOf(origin);
        if (!File.Exists(path))
        {
            return null;
        }

        var note = await File.ReadAllBytesAsync(path, cancellationToken);
        try
        {
            var checkpoint = Checkpoint.Parse(SignedNote.Parse(note).Text);
            if (checkpoint.Origin != origin)
            {
                throw new InvalidDataException($"The witness state {path} holds a checkpoint of {checkpoint.Origin}, not {origin}.");
            }

            return new WitnessedCheckpoint(checkpoint, Encoding.UTF8.GetString(note));
        }
        catch (Exception ex) when (ex is FormatException or NoteRejectedException)
        {
            throw new InvalidDataException($"The witness state {path} is not a checkpoint note: {ex.Message}", ex);
        }
    }

    public Task WriteAsync(WitnessedCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        AtomicFile.Write(PathOf(checkpoint.Checkpoint.Origin), Encoding.UTF8.GetBytes(checkpoint.Note));
        return Task.CompletedTask;
    }

    private string PathOf(string origin) => Path.Combine(_directory, OriginHash(origin) + ".checkpoint");
}
