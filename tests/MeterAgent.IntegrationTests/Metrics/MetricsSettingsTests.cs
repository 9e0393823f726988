using System.Net;

namespace MeterAgent.IntegrationTests.Metrics;

/// <summary>The Metrics settings on a real agent: label caps, account labels, and metrics off.</summary>
public sealed class MetricsSettingsTests
{
    [Fact]
    public async Task Models_beyond_MaxModelLabels_are_counted_as_other()
    {
        await using var agent = await TestAgent.StartAsync(settings: new Dictionary<string, string?> { ["Metrics:MaxModelLabels"] = "2" });
        foreach (var model in (string[])["emu-one", "emu-two", "emu-three", "emu-four", "emu-one"])
        {
            using var response = await agent.Http.SendAsync(agent.OpenAIRequest("v1/chat/completions",
                $$"""{"model":"{{model}}","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}"""));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var scrape = await Eventually.ThatAsync(() => PrometheusScrape.GetAsync(agent.Admin),
            s => s.Sum("meteragent_requests_total") == 5, "five requests counted");
        // The first two models settled get their own label; requests settle after their responses, and closes that
        // share a commit settle in no set order, so which two is not fixed: each named model's count is its own, and
        // every other request is counted under "other".
        var sent = new Dictionary<string, int> { ["emu-one"] = 2, ["emu-two"] = 1, ["emu-three"] = 1, ["emu-four"] = 1 };
        var models = scrape.Find("meteragent_requests_total").Select(s => s.Label("model")).ToHashSet();
        Assert.Equal(3, models.Count);
        Assert.Contains("other", models);
        var named = models.Where(m => m != "other").ToList();
        Assert.All(named, m => Assert.True(sent.ContainsKey(m), m));
        Assert.All(named, m => Assert.Equal(sent[m], scrape.Sum("meteragent_requests_total", ("model", m))));
        Assert.Equal(5 - named.Sum(m => sent[m]), scrape.Sum("meteragent_requests_total", ("model", "other")));
    }

    [Fact]
    public async Task Account_labels_are_added_to_the_credit_counters_when_asked_and_capped()
    {
        using var house = ClearingHouse.Create();
        await using var agent = await TestAgent.StartAsync(settings: house.AgentSettings(
            ("Metrics:AccountLabels", "true"), ("Metrics:MaxAccountLabels", "1")));
        var second = await agent.Accounts.CreateAccountAsync("second");
        var secondKey = (await agent.Accounts.IssueKeyAsync(second.Id))!.Secret;
        await ClearingHouse.DeliverAsync(agent.Admin, house.Notice(agent.AccountId, 100m));
        await ClearingHouse.DeliverAsync(agent.Admin, house.Notice(second.Id, 100m));
        foreach (var key in (string[])[agent.ClientKey, secondKey])
        {
            using var response = await agent.Http.SendAsync(agent.OpenAIRequest("v1/chat/completions",
                """{"model":"emu-chat","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}""", key));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await agent.RecordForAsync(response);
        }

        var scrape = await Eventually.ThatAsync(() => PrometheusScrape.GetAsync(agent.Admin),
            s => s.Find("meteragent_credit_units_redeemed_total").Count() == 2, "both accounts' redemptions counted");
        var accounts = scrape.Find("meteragent_credit_units_redeemed_total").Select(s => s.Label("account")).Order(StringComparer.Ordinal).ToList();
        Assert.Equal([agent.AccountId, "other"], accounts.OrderBy(a => a == "other" ? 1 : 0));

        // Only the credit counters carry it.
        Assert.DoesNotContain(scrape.Samples, s => s.Labels.ContainsKey("account") && !s.Name.StartsWith("meteragent_credit_units_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_metrics_off_nothing_is_served()
    {
        await using var agent = await TestAgent.StartAsync(settings: new Dictionary<string, string?> { ["Metrics:Enabled"] = "false" });
        using var response = await agent.Http.SendAsync(agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        using var metrics = await agent.Admin.GetAsync(new Uri("metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, metrics.StatusCode);
    }

    [Fact]
    public async Task A_bad_setting_stops_start_up_naming_the_key()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => TestAgent.StartAsync(
            settings: new Dictionary<string, string?> { ["Metrics:MaxModelLabels"] = "0" }));
        Assert.Contains("Metrics:MaxModelLabels", failure.Message, StringComparison.Ordinal);
    }
}
