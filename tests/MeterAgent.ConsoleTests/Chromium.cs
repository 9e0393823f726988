using Microsoft.Playwright;

namespace MeterAgent.ConsoleTests;

/// <summary>
/// One headless Chromium for the whole test run: Debian's <c>chromium</c> (or the executable <c>METERAGENT_CHROMIUM</c>
/// names) driven by the Playwright driver that ships inside the NuGet package, so nothing is downloaded. A missing
/// browser skips the tests on a developer machine and fails them in CI (<see cref="Prerequisite"/>).
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    public const string DefaultPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>The executable launched: <c>METERAGENT_CHROMIUM</c> when set, else Debian's.</summary>
    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("METERAGENT_CHROMIUM") is { Length: > 0 } path ? path : DefaultPath;

    /// <summary>The browser; skips (or, in CI, fails) the calling test when Chromium is not installed.</summary>
    public IBrowser Browser
    {
        get
        {
            Prerequisite.Require(_browser is not null, $"Chromium is not at {ExecutablePath}: apt-get install chromium (or set METERAGENT_CHROMIUM)");
            return _browser!;
        }
    }

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            return;
        }

        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = ExecutablePath, Headless = true });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }

    /// <summary>A fresh context (its own cookies) and page at <paramref name="width"/> × <paramref name="height"/>, watched by a <see cref="PageProbe"/>.</summary>
    public async Task<(IBrowserContext Context, IPage Page, PageProbe Probe)> NewPageAsync(int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new() { ViewportSize = new() { Width = width, Height = height } });
        var page = await context.NewPageAsync();
        return (context, page, new PageProbe(page));
    }
}

/// <summary>The browser is started once for every test class in the collection.</summary>
[CollectionDefinition(Name)]
public sealed class ChromiumCollection : ICollectionFixture<Chromium>
{
    public const string Name = "chromium";
}
