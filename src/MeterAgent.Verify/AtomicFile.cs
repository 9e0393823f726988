namespace MeterAgent.Verify;

/// <summary>
/// Replaces a file whole or not at all: the bytes go to a temporary file beside it, flushed to disk, which is then
/// renamed over it. A crash midway leaves the old file (and a stray temporary one), never half of the new one: a
/// witness or verifier that read half a checkpoint back would have forgotten what it saw.
/// </summary>
internal static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        var full = Path.GetFullPath(path);
        var temporary = $"{full}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough))
            {
                file.Write(bytes);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }
}
