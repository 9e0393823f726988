using System.Runtime.InteropServices;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// fsync of a folder, so a file just created in it (a new journal segment) survives a power loss under
/// <c>Synchronous=Full</c>: on Linux a file's own fsync does not make its directory entry durable. .NET cannot open a
/// folder as a file, hence libc. Elsewhere (and if it fails) this does nothing: a process crash never needs it.
/// </summary>
internal static partial class DirectorySync
{
    private const int ReadOnlyDirectory = 0x10000; // O_RDONLY | O_DIRECTORY on Linux

    public static void Flush(string folder)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            var fd = NativeMethods.open(folder, ReadOnlyDirectory);
            if (fd < 0)
            {
                return;
            }

            _ = NativeMethods.fsync(fd);
            _ = NativeMethods.close(fd);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // No libc by that name: the file's own fsync is all there is.
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
#pragma warning disable CA5392, IDE1006 // libc's own names
        public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int fsync(int fd);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int close(int fd);
#pragma warning restore CA5392, IDE1006
    }
}
