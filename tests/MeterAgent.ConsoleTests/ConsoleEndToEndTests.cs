using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MeterAgent.Attestation.Notes;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace MeterAgent.ConsoleTests;

/// <summary>
/// The console end to end in Chromium, against a real agent with a signed log and credits: the operator signs in on the
/// management port and creates an account and a key through the forms; the enterprise signs in with that key on the
/// client port, sends traffic through the proxy, sees its balance fall and its records appear, and verifies a record
/// in the browser; a tampered proof is not verified. Every page is screenshotted at desktop and phone widths.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class ConsoleEndToEndTests(Chromium chromium, ITestOutputHelper output) : IAsyncLifetime
{
    private const string ReadToken = "clearing-house-read-token-for-console-e2e";
    private readonly TempFolder _folder = new("meteragent-console-e2e-");
    private readonly NoteKeyPair _logKey = NoteKeyPair.Generate("meteragent.test/log");
    private ClearingHouse _house = null!;
    private TestAgent _agent = null!;

    public async Task InitializeAsync()
    {
        _house = ClearingHouse.Create(settlementInterval: "00:00:02");
        _agent = await TestAgent.StartAsync(settings: _house.AgentSettings(
            ("Attestation:SigningKeyPath", _folder.Write("log.skey", _logKey.SignerKey)),
            ("Attestation:ReadToken", ReadToken),
            ("Attestation:StatementGrace", "00:00:01")));
    }

    public async Task DisposeAsync()
    {
        if (_agent is not null)
        {
            await _agent.DisposeAsync();
        }

        _house?.Dispose();
        _folder.Dispose();
    }

    [SkippableFact]
    public async Task An_operator_sets_up_an_enterprise_which_sees_its_balance_fall_and_verifies_its_records_in_the_browser()
    {
        output.WriteLine($"screenshots: {Screenshots.Folder}");
        var management = _agent.ManagementUrl.TrimEnd('/');
        var client = _agent.ProxyUrl.TrimEnd('/');

        // The operator, on the management port.
        var (operatorContext, op, operatorProbe) = await chromium.NewPageAsync();
        await using var operatorScope = operatorContext;
        await GoAsync(op, $"{management}/console");
        Assert.EndsWith("/console/signin", new Uri(op.Url).AbsolutePath, StringComparison.Ordinal);
        await Screenshots.TakeAsync(op, "operator-signin", output);
        await AxeAudit.AssertAccessibleAsync(op, "operator-signin", output);
        await op.FillAsync("#token", TestAgent.AdminToken);
        await op.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await SignedInAsync(op, $"{management}/console", op.Locator("#name"));
        await Screenshots.TakeAsync(op, "operator-accounts", output);
        await AxeAudit.AssertAccessibleAsync(op, "operator-accounts", output);

        await op.FillAsync("#name", "Acme Analytics");
        await op.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        await Assertions.Expect(op).ToHaveURLAsync(new Regex("/console/accounts/[^/]+$"));
        await Assertions.Expect(op.GetByRole(AriaRole.Button, new() { Name = "Issue a new key" })).ToBeVisibleAsync();
        var accountId = Uri.UnescapeDataString(new Uri(op.Url).AbsolutePath["/console/accounts/".Length..]);
        Assert.Equal("Acme Analytics", (await _agent.Accounts.GetAccountAsync(accountId))?.Name);

        var keyAnswer = await op.RunAndWaitForResponseAsync(
            () => op.GetByRole(AriaRole.Button, new() { Name = "Issue a new key" }).ClickAsync(),
            response => response.Request.Method == "POST" && response.Url.EndsWith("/keys", StringComparison.Ordinal));
        Assert.Contains("no-store", await keyAnswer.HeaderValueAsync("cache-control") ?? "", StringComparison.Ordinal);
        var key = await op.InputValueAsync("#issued-key");
        Assert.False(string.IsNullOrWhiteSpace(key));
        await Screenshots.TakeAsync(op, "operator-key-issued", output);
        await AxeAudit.AssertAccessibleAsync(op, "operator-key-issued", output);

        // The clearing house delivers credits to the new account (as the operator's provider would).
        await ClearingHouse.DeliverAsync(_agent.Admin, _house.Notice(accountId, 1_000m));
        await GoAsync(op, $"{management}/console/accounts/{Uri.EscapeDataString(accountId)}");
        await Assertions.Expect(op.Locator("main")).ToContainTextAsync("active");
        await Screenshots.TakeAsync(op, "operator-account", output);
        await AxeAudit.AssertAccessibleAsync(op, "operator-account", output);

        // The enterprise, on the client port, with the key it was given.
        var (enterpriseContext, page, probe) = await chromium.NewPageAsync();
        await using var __ = enterpriseContext;
        await GoAsync(page, $"{client}/console/signin");
        await Screenshots.TakeAsync(page, "enterprise-signin", output);
        await AxeAudit.AssertAccessibleAsync(page, "enterprise-signin", output);
        await page.FillAsync("#key", key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await SignedInAsync(page, $"{client}/console", page.Locator("[data-figure=\"available\"]").First);
        var before = await FigureAsync(page, "available");
        Assert.Equal(1_000m, before);

        // Traffic through the proxy with that key.
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var request = _agent.OpenAIRequest("v1/chat/completions",
                $$"""{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"quarterly report {{i}}"}]}""", key);
            using var response = await _agent.Http.SendAsync(request);
            response.EnsureSuccessStatusCode();
            ids.Add((await _agent.RecordForAsync(response)).Id);
        }

        await GoAsync(page, $"{client}/console");
        var after = await FigureAsync(page, "available");
        var redeemed = await FigureAsync(page, "redeemed");
        Assert.True(after < before, $"the balance did not fall: {before} then {after}");
        Assert.Equal(before - after, redeemed);
        await Screenshots.TakeAsync(page, "enterprise-balance", output);
        await AxeAudit.AssertAccessibleAsync(page, "enterprise-balance", output);

        // Its records, each with a Verify button once the log holds it.
        await Eventually.ThatAsync(
            async () =>
            {
                await GoAsync(page, $"{client}/console/records");
                return await page.Locator("button[data-verify-usage]").CountAsync();
            },
            count => count == ids.Count, "a Verify button for each record");
        foreach (var id in ids)
        {
            await Assertions.Expect(page.Locator($"button[data-verify-usage=\"{id}\"]")).ToBeVisibleAsync();
        }

        var (state, _, text) = await VerifyButton.ClickAsync(page, ids[0]);
        var proof = await ProofAsync(ids[0], key);
        Assert.True(state == "verified", text);
        Assert.StartsWith(
            $"Verified: record {ids[0]} is leaf {proof.GetProperty("leaf_index").GetInt64()} of meteragent.test/log at tree size {proof.GetProperty("tree_size").GetInt64()}, ",
            text, StringComparison.Ordinal);
        Assert.Contains($"signed by meteragent.test/log+{NoteKeyId.Format(NoteVerifier.Parse(_logKey.VerifierKey).KeyId)}", text, StringComparison.Ordinal);
        await Screenshots.TakeAsync(page, "enterprise-records-verified", output);
        await AxeAudit.AssertAccessibleAsync(page, "enterprise-records-verified", output);

        // A tampered proof (one hash flipped on its way to the page) is not verified, and says why.
        await page.RouteAsync("**/console/api/proof/**", async route =>
        {
            var response = await route.FetchAsync();
            var json = JsonNode.Parse(await response.TextAsync())!.AsObject();
            var hashes = json["hashes"]!.AsArray();
            var hash = Convert.FromBase64String(hashes[0]!.GetValue<string>());
            hash[0] ^= 0x80;
            hashes[0] = Convert.ToBase64String(hash);
            await route.FulfillAsync(new() { Response = response, Body = json.ToJsonString() });
        });
        (state, var reason, text) = await VerifyButton.ClickAsync(page, ids[1]);
        Assert.Equal("failed", state);
        Assert.Equal("root-mismatch", reason);
        Assert.StartsWith("Not verified: ", text, StringComparison.Ordinal);
        Assert.Contains("does not lead to the checkpoint's root hash", text, StringComparison.Ordinal);
        await Screenshots.TakeAsync(page, "enterprise-records-tampered", output);
        await AxeAudit.AssertAccessibleAsync(page, "enterprise-records-tampered", output);
        await page.UnrouteAsync("**/console/api/proof/**");

        // Once its 2-second interval has closed, the record's proof names the statement that counted it.
        var counted = await Eventually.ThatAsync(
            () => ProofAsync(ids[0], key), p => p.GetProperty("statements").GetArrayLength() > 0, "a statement counting the first record", TimeSpan.FromSeconds(60));
        (state, _, text) = await VerifyButton.ClickAsync(page, ids[0]);
        Assert.True(state == "verified", text);
        Assert.Contains($"Counted by statement {counted.GetProperty("statements")[0].GetProperty("sequence").GetInt64()} (contract {ClearingHouse.ContractId}", text, StringComparison.Ordinal);

        // The operator's other pages, now with records and a checkpoint.
        await GoAsync(op, $"{management}/console/usage?account={Uri.EscapeDataString(accountId)}");
        await Assertions.Expect(op.Locator("main")).ToContainTextAsync(ids[0]);
        await Screenshots.TakeAsync(op, "operator-usage", output);
        await AxeAudit.AssertAccessibleAsync(op, "operator-usage", output);
        await GoAsync(op, $"{management}/console/log");
        await Assertions.Expect(op.Locator("main")).ToContainTextAsync("meteragent.test/log");
        await Screenshots.TakeAsync(op, "operator-log", output);
        await AxeAudit.AssertAccessibleAsync(op, "operator-log", output);

        operatorProbe.AssertClean();
        probe.AssertClean();
    }

    /// <summary>
    /// Waits for the page a sign-in lands on by its address and one of its elements, not by the browser's load event:
    /// Playwright's <c>WaitForURLAsync</c> also waits for "load", and once (CI, 2026-11-30) that event never reached
    /// the client although the page was there and the network idle.
    /// </summary>
    private static async Task SignedInAsync(IPage page, string url, ILocator landmark)
    {
        await Assertions.Expect(page).ToHaveURLAsync(url);
        await Assertions.Expect(landmark).ToBeVisibleAsync();
    }

    private static async Task GoAsync(IPage page, string url)
    {
        var response = await page.GotoAsync(url);
        Assert.NotNull(response);
        Assert.True(response.Ok, $"{url}: HTTP {response.Status}");
        Assert.NotNull(await response.HeaderValueAsync("content-security-policy"));
    }

    /// <summary>A balance figure of the enterprise's home page (<c>data-figure</c>), in contract units.</summary>
    private static async Task<decimal> FigureAsync(IPage page, string name) =>
        decimal.Parse((await page.Locator($"[data-figure=\"{name}\"]").First.InnerTextAsync()).Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);

    private async Task<JsonElement> ProofAsync(string usageId, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/meteragent/log/proof/{usageId}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await _agent.Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
