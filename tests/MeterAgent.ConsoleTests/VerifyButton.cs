using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace MeterAgent.ConsoleTests;

/// <summary>The Verify button of a record (the console's markup, docs/console.md), as a user presses it.</summary>
public static partial class VerifyButton
{
    /// <summary>Clicks the record's Verify button and waits for the outcome: its state, reason code and sentence.</summary>
    public static async Task<(string State, string? Reason, string Text)> ClickAsync(IPage page, string usageId)
    {
        ArgumentNullException.ThrowIfNull(page);
        await page.Locator($"button[data-verify-usage=\"{usageId}\"]").ClickAsync();
        var output = page.Locator($"output[id=\"verify-{usageId}\"]");
        await Assertions.Expect(output).ToHaveAttributeAsync("data-verify-state", Outcome(), new() { Timeout = 15_000 });
        return ((await output.GetAttributeAsync("data-verify-state"))!, await output.GetAttributeAsync("data-verify-reason"), await output.InnerTextAsync());
    }

    [GeneratedRegex("^(verified|failed)$")]
    private static partial Regex Outcome();
}
