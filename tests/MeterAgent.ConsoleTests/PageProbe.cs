using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace MeterAgent.ConsoleTests;

/// <summary>
/// What a page said that a user would not see: console errors and warnings (a CSP violation is reported there as
/// "Refused to …") and uncaught exceptions. A page under test must say none of it.
/// </summary>
public sealed partial class PageProbe
{
    private readonly ConcurrentQueue<string> _problems = new();

    public PageProbe(IPage page)
    {
        ArgumentNullException.ThrowIfNull(page);
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning" && !IsAutomaticFavicon(message))
            {
                _problems.Enqueue($"console {message.Type}: {message.Text} ({message.Location})");
            }
        };
        page.PageError += (_, error) => _problems.Enqueue($"page error: {error}");
    }

    public IReadOnlyList<string> Problems => [.. _problems];

    /// <summary>
    /// Chromium asks every site for <c>/favicon.ico</c> on its own when a page names no icon, and logs the 404: a
    /// request of the browser's, not of the page. Only that one is let through.
    /// </summary>
    private static bool IsAutomaticFavicon(IConsoleMessage message) =>
        message.Text.StartsWith("Failed to load resource: the server responded with a status of 404", StringComparison.Ordinal)
        && Favicon().IsMatch(message.Location);

    /// <summary>The location is the resource's URL, then its line and column.</summary>
    [GeneratedRegex(@"^https?://[^/]+/favicon\.ico(:\d+:\d+)?$")]
    private static partial Regex Favicon();

    /// <summary>Fails with every problem the page reported.</summary>
    public void AssertClean() => Assert.True(_problems.IsEmpty, "the page reported:\n" + string.Join("\n", _problems));
}
