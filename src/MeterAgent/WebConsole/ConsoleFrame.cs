namespace MeterAgent.WebConsole;

/// <summary>What every console page's frame needs: whose console, the title, the session, and which scripts it loads.</summary>
/// <param name="Audience">The operator's or an enterprise's console.</param>
/// <param name="Title">The page's title.</param>
/// <param name="SignedIn">Whether to show the navigation and the sign-out form.</param>
/// <param name="Charts">Whether the page has charts (uPlot and charts.js).</param>
/// <param name="Verify">Whether the page has Verify buttons (verify.js and the log keys' address).</param>
/// <param name="Antiforgery">The request token for the page's forms (set when the page is rendered).</param>
public sealed record ConsoleFrame(
    ConsoleAudience Audience, string Title, bool SignedIn = true, bool Charts = false, bool Verify = false, string? Antiforgery = null)
{
    public bool IsOperator => Audience == ConsoleAudience.Operator;
}
