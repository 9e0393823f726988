using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace MeterAgent.ConsoleTests;

/// <summary>
/// What a page said that a user would not see: console errors and warnings (a CSP violation is reported there as
/// "Refused to …") and uncaught exceptions. A page under test must say none of it.
/// </summary>
public sealed class PageProbe
{
    private readonly ConcurrentQueue<string> _problems = new();

    public PageProbe(IPage page)
    {
        ArgumentNullException.ThrowIfNull(page);
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
            {
                _problems.Enqueue($"console {message.Type}: {message.Text} ({message.Location})");
            }
        };
        page.PageError += (_, error) => _problems.Enqueue($"page error: {error}");
    }

    public IReadOnlyList<string> Problems => [.. _problems];

    /// <summary>Fails with every problem the page reported.</summary>
    public void AssertClean() => Assert.True(_problems.IsEmpty, "the page reported:\n" + string.Join("\n", _problems));
}
