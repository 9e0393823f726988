namespace MeterAgent.Verify.Tests;

/// <summary><c>meteragent verify</c> against the log's read API over HTTP, with the clearing house's token.</summary>
public sealed class VerifyHttpTests : IAsyncLifetime
{
    private const string Token = "clearing-house-read-token-for-tests";
    private readonly TempFolder _folder = new("meteragent-verify-http-");
    private readonly LogFixture _log = LogFixture.Standard();
    private ContractServer _server = null!;

    public async Task InitializeAsync()
    {
        _log.WriteTo(_folder.Path);
        _server = await ContractServer.StartAsync(_folder.Path, Token);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task The_log_verifies_over_http_paging_through_the_statements()
    {
        var summary = (await VerifyRun.RunAsync("--log", _server.Url, "--key", _log.VerifierKey, "--token", Token)).Passed();

        Assert.Contains("size 14", summary, StringComparison.Ordinal);
        Assert.Contains("5 statements", summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_token_is_named_as_such()
    {
        var run = await VerifyRun.RunAsync("--log", _server.Url, "--key", _log.VerifierKey, "--token", "not-the-token");

        Assert.Equal(1, run.Exit);
        Assert.Contains("verify: cannot read the log: GET log/checkpoint answered HTTP 401 (is --token the log's read token?)", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_listed_digest_that_is_not_the_envelopes_is_refused()
    {
        var list = Path.Combine(_folder.Path, "log", "statements.json");
        File.WriteAllText(list, File.ReadAllText(list).Replace("\"digest\":\"", "\"digest\":\"00", StringComparison.Ordinal));

        (await VerifyRun.RunAsync("--log", _server.Url, "--key", _log.VerifierKey, "--token", Token))
            .Failed("statement 1: the list's digest 00");
    }
}
