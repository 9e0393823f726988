using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace MeterAgent.ConsoleTests;

/// <summary>
/// The console's accessibility, checked by axe-core (Deque's engine, run in the page) against WCAG 2.1 A and AA: labels,
/// contrast, landmarks, names of buttons and links, language. Any violation fails, with axe's own account of it.
/// </summary>
public static class AxeAudit
{
    private static readonly AxeRunOptions Wcag = new()
    {
        RunOnly = new RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    };

    public static async Task AssertAccessibleAsync(IPage page, string name, ITestOutputHelper output)
    {
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(output);
        var result = await page.RunAxe(Wcag);
        output.WriteLine($"axe {name}: {result.Passes.Length} rules passed, {result.Violations.Length} violated");
        Assert.True(result.Violations.Length == 0, $"{name} ({page.Url}) is not accessible:\n" + string.Join("\n", result.Violations.Select(v =>
            $"- {v.Id} ({v.Impact}): {v.Help}; " + string.Join(" | ", v.Nodes.Take(3).Select(n => n.Html)))));
    }
}
