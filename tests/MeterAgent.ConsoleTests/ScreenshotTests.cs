using Xunit.Abstractions;

namespace MeterAgent.ConsoleTests;

/// <summary>The screenshot check can tell a blank page from one with content, and reads Chromium's PNGs.</summary>
[Collection(ChromiumCollection.Name)]
public sealed class ScreenshotTests(Chromium chromium, ITestOutputHelper output)
{
    [SkippableFact]
    public async Task A_blank_page_has_one_colour_and_a_page_with_text_many()
    {
        var (context, page, probe) = await chromium.NewPageAsync(390, 844);
        await using var _ = context;

        await page.SetContentAsync("<!doctype html><title>blank</title>");
        var blank = Png.DistinctColours(await page.ScreenshotAsync());
        await page.SetContentAsync("<!doctype html><title>text</title><h1>Usage</h1><p>Twelve records, 4,096 reference tokens, three statements.</p>"
            + "<p style=\"color:#0a5\">Verified: leaf 3 at tree size 12.</p>");
        var text = Png.DistinctColours(await page.ScreenshotAsync());
        output.WriteLine($"blank: {blank} colours, text: {text} colours");

        Assert.Equal(1, blank);
        Assert.True(text >= Screenshots.MinimumColours, $"{text} colours");
        var (width, height, _, _) = Png.Decode(await page.ScreenshotAsync());
        Assert.Equal((390, 844), (width, height));
        probe.AssertClean();
    }

    [SkippableFact]
    public async Task The_accessibility_audit_fails_a_page_with_an_unlabelled_input_and_faint_text()
    {
        var (context, page, _) = await chromium.NewPageAsync(1280, 800);
        await using var _ = context;

        await page.SetContentAsync("<!doctype html><html lang=\"en\"><title>bad</title><main><h1>Form</h1><input type=\"text\">"
            + "<p style=\"color:#ddd;background:#fff\">Faint text</p></main></html>");
        var failure = await Assert.ThrowsAsync<Xunit.Sdk.TrueException>(() => AxeAudit.AssertAccessibleAsync(page, "bad", output));
        Assert.Contains("label", failure.Message, StringComparison.Ordinal);
        Assert.Contains("color-contrast", failure.Message, StringComparison.Ordinal);
    }
}
