using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using MeterAgent.WebConsole;
using Microsoft.Extensions.DependencyInjection;

namespace MeterAgent.IntegrationTests.WebConsole;

/// <summary>
/// The web console over HTTP through real Kestrel, as a browser without scripts uses it (docs/console.md): the
/// operator's forms on the management port, the enterprise's pages on the client port, and the security rules.
/// </summary>
public sealed class ConsoleTests(ConsoleFixture fixture) : IClassFixture<ConsoleFixture>
{
    private const string Chat = """{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"Hello console"}]}""";

    private TestAgent Agent => fixture.Agent;

    [Fact]
    public async Task The_operator_creates_an_account_and_a_key_and_the_enterprise_sees_its_records_and_balance()
    {
        using var op = new ConsoleClient(Agent.ManagementUrl);
        var home = await SignInOperatorAsync(op);
        Assert.Equal("/console", home.Url.AbsolutePath);

        var created = await op.SubmitAsync(home, "/console/accounts", ("name", "console-acme"));
        Assert.Equal(HttpStatusCode.OK, created.Status);
        Assert.StartsWith("/console/accounts/", created.Url.AbsolutePath, StringComparison.Ordinal);
        var accountId = Uri.UnescapeDataString(created.Url.AbsolutePath["/console/accounts/".Length..]);
        Assert.Contains("console-acme", created.Text, StringComparison.Ordinal);
        await ClearingHouse.DeliverAsync(Agent.Admin, fixture.House.Notice(accountId, 1000));

        var issued = await op.SubmitAsync(created, $"/console/accounts/{accountId}/keys");
        Assert.Equal(HttpStatusCode.OK, issued.Status);
        Assert.Contains("no-store", issued.Header("Cache-Control"), StringComparison.Ordinal);
        var key = issued.Document.QuerySelector<IHtmlInputElement>("#issued-key")?.Value;
        Assert.False(string.IsNullOrEmpty(key), issued.Body);

        // Shown once: no later page carries it.
        var again = await op.GetAsync($"/console/accounts/{accountId}");
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.DoesNotContain(key, again.Body, StringComparison.Ordinal);
        Assert.Contains("1,000", again.Text, StringComparison.Ordinal);
        var keysListed = (await op.GetAsync("/console")).Body + (await op.GetAsync("/console/usage")).Body;
        Assert.DoesNotContain(key, keysListed, StringComparison.Ordinal);

        // The enterprise signs in with that key and sends traffic through the proxy.
        using var enterprise = new ConsoleClient(Agent.ProxyUrl);
        var balancePage = await SignInEnterpriseAsync(enterprise, key);
        Assert.Equal("/console", balancePage.Url.AbsolutePath);
        using var proxied = await Agent.Http.SendAsync(Agent.OpenAIRequest("v1/chat/completions", Chat, key));
        Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);
        var record = await Agent.RecordForAsync(proxied);
        Assert.Equal(accountId, record.AccountId);

        // Its record, with a Verify button once the log has it.
        var records = await Eventually.ThatAsync(
            () => enterprise.GetAsync("/console/records"),
            page => page.Document.QuerySelector($"button[data-verify-usage='{record.Id}']") is not null,
            "the record's Verify button");
        var verify = records.Document.QuerySelector($"button[data-verify-usage='{record.Id}']")!;
        Assert.Equal($"/console/api/proof/{record.Id}", verify.GetAttribute("data-verify-proof"));
        Assert.Equal($"verify-{record.Id}", verify.GetAttribute("data-verify-output"));
        Assert.NotNull(records.Document.GetElementById($"verify-{record.Id}"));
        Assert.Equal("/.well-known/meteragent/log-keys", records.Document.QuerySelector("meta[name='meteragent-log-keys']")?.GetAttribute("content"));
        Assert.NotNull(records.Document.QuerySelector("script[type='module'][src='/console/assets/verify.js']"));

        // The balance: the same figures as GET /v1/meteragent/balance.
        using var balanceRequest = new HttpRequestMessage(HttpMethod.Get, "v1/meteragent/balance");
        balanceRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var balanceResponse = await Agent.Http.SendAsync(balanceRequest);
        var balance = await TestAgent.JsonAsync(balanceResponse);
        var lot = balance.GetProperty("lots")[0];
        Assert.True(ClearingHouse.Units(lot, "redeemed") > 0, balance.ToString());
        var console = await enterprise.GetAsync("/console");
        Assert.Equal(Figure(ClearingHouse.Units(lot, "available")), console.Document.QuerySelector("[data-figure='available']")?.TextContent);
        Assert.Equal(Figure(ClearingHouse.Units(lot, "redeemed")), console.Document.QuerySelector("[data-figure='redeemed']")?.TextContent);
        Assert.NotNull(console.Document.QuerySelector("script[type='application/json']#burn-down"));

        // The proof the Verify button fetches: the account API's, for the session's account.
        var proof = await enterprise.GetAsync($"/console/api/proof/{Uri.EscapeDataString(record.Id)}");
        Assert.Equal(HttpStatusCode.OK, proof.Status);
        using var proofJson = JsonDocument.Parse(proof.Body);
        Assert.Equal(record.Id, proofJson.RootElement.GetProperty("usage_id").GetString());

        // Neither secret in any page or in any log line.
        foreach (var page in op.Seen.Concat(enterprise.Seen).Where(page => page != issued))
        {
            Assert.DoesNotContain(key, page.Body, StringComparison.Ordinal);
            Assert.DoesNotContain(TestAgent.AdminToken, page.Body, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(fixture.Logs.Lines, line => line.Contains(key, StringComparison.Ordinal) || line.Contains(TestAgent.AdminToken, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_post_without_the_antiforgery_token_is_refused()
    {
        using var op = new ConsoleClient(Agent.ManagementUrl);
        await SignInOperatorAsync(op);
        var before = (await Agent.Accounts.ListAccountsAsync()).Count;

        var refused = await op.PostAsync("/console/accounts", ("name", "csrf-victim"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        var forged = await op.PostAsync("/console/accounts", ("name", "csrf-victim"), (ConsoleEndpoints.AntiforgeryField, "forged"));
        Assert.Equal(HttpStatusCode.BadRequest, forged.Status);
        Assert.Equal(before, (await Agent.Accounts.ListAccountsAsync()).Count);

        // And the sign-in form itself needs its token.
        using var anonymous = new ConsoleClient(Agent.ManagementUrl);
        var signIn = await anonymous.PostAsync("/console/signin", ("token", TestAgent.AdminToken));
        Assert.Equal(HttpStatusCode.BadRequest, signIn.Status);
    }

    [Fact]
    public async Task Wrong_credentials_and_a_client_key_are_refused_with_a_plain_message()
    {
        using var op = new ConsoleClient(Agent.ManagementUrl);
        var form = await op.GetAsync("/console/signin");
        var wrong = await op.SubmitAsync(form, "/console/signin", ("token", "not-the-admin-token"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.Status);
        Assert.Contains("Sign-in failed: that is not the admin token.", wrong.Text, StringComparison.Ordinal);

        var clientKey = await op.SubmitAsync(await op.GetAsync("/console/signin"), "/console/signin", ("token", Agent.ClientKey));
        Assert.Equal(HttpStatusCode.Unauthorized, clientKey.Status);
        Assert.Equal(HttpStatusCode.OK, (await op.GetAsync("/console")).Status);
        Assert.Equal("/console/signin", (await op.GetAsync("/console")).Url.AbsolutePath);

        using var enterprise = new ConsoleClient(Agent.ProxyUrl);
        var badKey = await enterprise.SubmitAsync(await enterprise.GetAsync("/console/signin"), "/console/signin", ("key", "sk-not-a-key"));
        Assert.Equal(HttpStatusCode.Unauthorized, badKey.Status);
        Assert.Contains("Sign-in failed: that key is not valid (unknown or revoked).", badKey.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-not-a-key", badKey.Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "/console/usage")]
    [InlineData("GET", "/console/log")]
    [InlineData("GET", "/console/accounts/{account}")]
    [InlineData("POST", "/console/accounts")]
    public async Task The_operator_console_is_404_on_the_client_port_even_signed_in(string method, string path)
    {
        // One cookie jar for both ports, as a browser keeps for one host: the operator's session is of no use there.
        using var op = new ConsoleClient(Agent.ManagementUrl);
        await SignInOperatorAsync(op);
        using var sameJar = new ConsoleClient(Agent.ProxyUrl, op.Cookies);
        path = path.Replace("{account}", Agent.AccountId, StringComparison.Ordinal);
        var page = method == "GET" ? await sameJar.GetAsync(path) : await sameJar.PostAsync(path, ("name", "x"));
        Assert.Equal(HttpStatusCode.NotFound, page.Status);

        // /console itself is the enterprise's sign-in there: the operator's cookie is not an enterprise session.
        Assert.Equal("/console/signin", (await sameJar.GetAsync("/console")).Url.AbsolutePath);
    }

    [Theory]
    [InlineData("/console/records")]
    [InlineData("/console/api/proof/anything")]
    public async Task The_enterprise_console_is_404_on_the_management_port_even_signed_in(string path)
    {
        using var enterprise = new ConsoleClient(Agent.ProxyUrl);
        await SignInEnterpriseAsync(enterprise, Agent.ClientKey);
        using var sameJar = new ConsoleClient(Agent.ManagementUrl, enterprise.Cookies);
        Assert.Equal(HttpStatusCode.NotFound, (await sameJar.GetAsync(path)).Status);
        Assert.Equal("/console/signin", (await sameJar.GetAsync("/console")).Url.AbsolutePath);
    }

    [Fact]
    public async Task An_enterprise_reaches_nothing_of_another_account()
    {
        // The fixture's account has a record; another account signs in and asks for it every way it can.
        using var proxied = await Agent.Http.SendAsync(Agent.OpenAIRequest("v1/chat/completions", Chat));
        var theirs = await Agent.RecordForAsync(proxied);
        await Eventually.ThatAsync<MeterAgent.Ledger.Usage.LoggedEntry?>(
            () => Agent.Services.GetRequiredService<MeterAgent.Ledger.Usage.IUsageLog>().FindAsync(theirs.Id),
            entry => entry is not null, "the other account's record in the log");

        var other = await Agent.Accounts.CreateAccountAsync("console-other");
        var otherKey = (await Agent.Accounts.IssueKeyAsync(other.Id))!;
        using var enterprise = new ConsoleClient(Agent.ProxyUrl);
        await SignInEnterpriseAsync(enterprise, otherKey.Secret);

        foreach (var path in new[]
        {
            "/console/records", $"/console/records?account={Agent.AccountId}", $"/console/records?before=zzzzzzzz&account={Agent.AccountId}",
            $"/console?account={Agent.AccountId}",
        })
        {
            var page = await enterprise.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, page.Status);
            Assert.DoesNotContain(theirs.Id, page.Body, StringComparison.Ordinal);
        }

        var proof = await enterprise.GetAsync($"/console/api/proof/{Uri.EscapeDataString(theirs.Id)}");
        var unknown = await enterprise.GetAsync("/console/api/proof/no-such-usage-id");
        Assert.Equal(HttpStatusCode.NotFound, proof.Status);
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.DoesNotContain(theirs.Id, proof.Body, StringComparison.Ordinal);
        Assert.Equal(Detail(unknown.Body), Detail(proof.Body));

        // The owner does get it: the 404 above is the account check, not a missing log.
        using var owner = new ConsoleClient(Agent.ProxyUrl);
        await SignInEnterpriseAsync(owner, Agent.ClientKey);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/console/api/proof/{Uri.EscapeDataString(theirs.Id)}")).Status);
    }

    [Fact]
    public async Task A_revoked_keys_session_is_refused_on_the_next_page()
    {
        var account = await Agent.Accounts.CreateAccountAsync("console-revoked");
        var key = (await Agent.Accounts.IssueKeyAsync(account.Id))!;
        using var enterprise = new ConsoleClient(Agent.ProxyUrl);
        var home = await SignInEnterpriseAsync(enterprise, key.Secret);
        Assert.Equal("/console", home.Url.AbsolutePath);
        Assert.Equal("/console/records", (await enterprise.GetAsync("/console/records")).Url.AbsolutePath);

        await Agent.Accounts.RevokeKeyAsync(key.Info.KeyId);
        Assert.Equal("/console/signin", (await enterprise.GetAsync("/console/records")).Url.AbsolutePath);
        var proof = await enterprise.GetAsync("/console/api/proof/anything");
        Assert.Equal(HttpStatusCode.Unauthorized, proof.Status);

        // And the key cannot open a new one.
        var again = await enterprise.SubmitAsync(await enterprise.GetAsync("/console/signin"), "/console/signin", ("key", key.Secret));
        Assert.Equal(HttpStatusCode.Unauthorized, again.Status);
    }

    [Fact]
    public async Task Every_page_has_the_security_headers_and_no_inline_script_or_style()
    {
        using var op = new ConsoleClient(Agent.ManagementUrl);
        var pages = new List<ConsolePage> { await op.GetAsync("/console/signin") };
        pages.Add(await SignInOperatorAsync(op));
        var account = await op.SubmitAsync(pages[^1], "/console/accounts", ("name", "console-<b>markup</b>\"'"));
        pages.Add(account);
        var accountId = Uri.UnescapeDataString(account.Url.AbsolutePath["/console/accounts/".Length..]);
        await ClearingHouse.DeliverAsync(Agent.Admin, fixture.House.Notice(accountId, 50));
        pages.Add(await op.GetAsync(account.Url.PathAndQuery));
        pages.Add(await op.SubmitAsync(pages[^1], $"/console/accounts/{accountId}/keys"));
        pages.Add(await op.GetAsync("/console/usage"));
        pages.Add(await op.GetAsync("/console/usage?status=nonsense"));
        pages.Add(await op.GetAsync("/console/log"));
        pages.Add(await op.GetAsync("/console/accounts/no-such-account"));

        using var enterprise = new ConsoleClient(Agent.ProxyUrl);
        pages.Add(await enterprise.GetAsync("/console/signin"));
        pages.Add(await SignInEnterpriseAsync(enterprise, Agent.ClientKey));
        pages.Add(await enterprise.GetAsync("/console/records"));

        foreach (var page in pages)
        {
            Assert.True(page.Status is HttpStatusCode.OK or HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{page.Url}: {page.Status}");
            Assert.Equal(ConsoleHeaders.ContentSecurityPolicy, page.Header("Content-Security-Policy"));
            Assert.Equal("nosniff", page.Header("X-Content-Type-Options"));
            Assert.Equal("no-referrer", page.Header("Referrer-Policy"));
            Assert.Contains("no-store", page.Header("Cache-Control"), StringComparison.Ordinal);
            AssertNoInlineScriptOrStyle(page);
        }

        // The name with markup in it is text, never markup.
        Assert.Contains("console-<b>markup</b>", account.Text, StringComparison.Ordinal);
        Assert.Empty(account.Document.QuerySelectorAll("main b"));

        // The assets are on both ports, under the same policy.
        foreach (var url in new[] { Agent.ManagementUrl, Agent.ProxyUrl })
        {
            using var assets = new ConsoleClient(url);
            foreach (var asset in new[] { "/console/assets/console.css", "/console/assets/charts.js", "/console/assets/vendor/uplot/uPlot.iife.min.js" })
            {
                var served = await assets.GetAsync(asset);
                Assert.Equal(HttpStatusCode.OK, served.Status);
                Assert.Equal(ConsoleHeaders.ContentSecurityPolicy, served.Header("Content-Security-Policy"));
            }
        }
    }

    [Fact]
    public async Task Sessions_are_sealed_with_keys_kept_owner_only_beside_the_store()
    {
        using var op = new ConsoleClient(Agent.ManagementUrl);
        await SignInOperatorAsync(op);
        var folder = Agent.DatabasePath + ".console-keys";
        Assert.True(Directory.Exists(folder), folder);
        Assert.NotEmpty(Directory.GetFiles(folder, "*.xml"));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
        }

        var cookie = op.Cookies.GetCookies(new Uri(Agent.ManagementUrl + "console")).Single(c => c.Name == "meteragent_console_operator");
        Assert.True(cookie.HttpOnly);
        Assert.Equal("/console", cookie.Path);
        Assert.DoesNotContain(TestAgent.AdminToken, cookie.Value, StringComparison.Ordinal);
    }

    private static void AssertNoInlineScriptOrStyle(ConsolePage page)
    {
        foreach (var script in page.Document.QuerySelectorAll("script"))
        {
            var type = script.GetAttribute("type");
            Assert.True(script.HasAttribute("src") ? string.IsNullOrWhiteSpace(script.TextContent) : type == "application/json",
                $"{page.Url}: inline script {script.OuterHtml}");
        }

        Assert.Empty(page.Document.QuerySelectorAll("style"));
        foreach (var element in page.Document.All)
        {
            foreach (var attribute in element.Attributes)
            {
                Assert.False(attribute.Name == "style", $"{page.Url}: style attribute on <{element.LocalName}>");
                Assert.False(attribute.Name.StartsWith("on", StringComparison.Ordinal), $"{page.Url}: event handler {attribute.Name}");
                Assert.False(attribute.Value.TrimStart().StartsWith("javascript:", StringComparison.OrdinalIgnoreCase), $"{page.Url}: javascript: URL");
            }
        }
    }

    private static async Task<ConsolePage> SignInOperatorAsync(ConsoleClient op)
    {
        var redirected = await op.GetAsync("/console");
        Assert.Equal("/console/signin", redirected.Url.AbsolutePath);
        var home = await op.SubmitAsync(redirected, "/console/signin", ("token", TestAgent.AdminToken));
        Assert.Equal(HttpStatusCode.OK, home.Status);
        return home;
    }

    private static async Task<ConsolePage> SignInEnterpriseAsync(ConsoleClient enterprise, string key)
    {
        var form = await enterprise.GetAsync("/console/signin");
        var home = await enterprise.SubmitAsync(form, "/console/signin", ("key", key));
        Assert.Equal(HttpStatusCode.OK, home.Status);
        return home;
    }

    private static string Figure(decimal units) => units.ToString("#,0.######", CultureInfo.InvariantCulture);

    private static string? Detail(string problemJson) => JsonDocument.Parse(problemJson).RootElement.GetProperty("detail").GetString();
}
