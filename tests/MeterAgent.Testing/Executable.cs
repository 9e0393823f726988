using System.ComponentModel;
using System.Diagnostics;

namespace MeterAgent.Testing;

/// <summary>Whether a program a test needs (redis-server, prometheus, ...) is installed here.</summary>
public static class Executable
{
    /// <summary>Whether <c>program argument</c> (e.g. <c>--version</c>) runs and exits 0 within 30 s.</summary>
    public static bool Runs(string program, string argument)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(program, argument) { RedirectStandardOutput = true, RedirectStandardError = true });
            if (process is null)
            {
                return false;
            }

            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            stderr.Wait();
            return process.WaitForExit(TimeSpan.FromSeconds(30)) && process.ExitCode == 0;
        }
        catch (Win32Exception)
        {
            return false;
        }
    }
}
