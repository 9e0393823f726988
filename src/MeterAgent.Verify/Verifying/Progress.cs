using System.Diagnostics;
using System.Globalization;

namespace MeterAgent.Verify.Verifying;

/// <summary>Progress of a long fetch on stderr, at most every two seconds, so a big log does not look hung.</summary>
internal sealed class Progress(TextWriter stderr)
{
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(2);
    private readonly Stopwatch _since = Stopwatch.StartNew();

    public void Report(string what, long done, long total)
    {
        if (_since.Elapsed < Every || total == 0)
        {
            return;
        }

        _since.Restart();
        stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"verify: {what}: {done:N0} of {total:N0} ({done * 100 / total}%)"));
    }
}
