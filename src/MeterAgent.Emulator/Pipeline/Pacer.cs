using System.Diagnostics;

namespace MeterAgent.Emulator.Pipeline;

/// <summary>
/// Paces stream content against an absolute schedule (first token at TTFT, then tokens / rate), so timer
/// granularity does not accumulate into drift over long streams.
/// </summary>
internal sealed class Pacer(TimeSpan timeToFirstToken, double tokensPerSecond)
{
    private long _start;

    public async ValueTask BeforeFirstAsync(CancellationToken cancellationToken)
    {
        if (timeToFirstToken > TimeSpan.Zero)
        {
            await Task.Delay(timeToFirstToken, cancellationToken);
        }

        _start = Stopwatch.GetTimestamp();
    }

    /// <summary>Waits until the event that follows <paramref name="tokensSent"/> tokens is due.</summary>
    public async ValueTask BeforeTokensAsync(int tokensSent, CancellationToken cancellationToken)
    {
        if (tokensPerSecond <= 0 || tokensSent == 0)
        {
            return;
        }

        var due = TimeSpan.FromSeconds(tokensSent / tokensPerSecond);
        var wait = due - Stopwatch.GetElapsedTime(_start);
        if (wait >= TimeSpan.FromMilliseconds(1))
        {
            await Task.Delay(wait, cancellationToken);
        }
    }
}
