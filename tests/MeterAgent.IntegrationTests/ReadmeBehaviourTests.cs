using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MeterAgent.Ledger.Usage;
using MeterAgent.Metering.Tokenization;
using Microsoft.Data.Sqlite;

namespace MeterAgent.IntegrationTests;

/// <summary>Behaviours the README promises at the proxy's door: refusals leave rejected records, keys stay put.</summary>
public sealed class RequestDoorTests : IAsyncLifetime
{
    private TestAgent _agent = null!;

    public async Task InitializeAsync() => _agent = await TestAgent.StartAsync(
        settings: new Dictionary<string, string?> { ["MeterAgent:MaxRequestBodyBytes"] = "65536" },
        recordRequests: true);

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    private static int Count(string text) => ReferenceTokenizer.Instance.CountTokens(text);

    private async Task AssertRejectedAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(JsonValueKind.String, (await TestAgent.JsonAsync(response)).GetProperty("error").GetProperty("message").ValueKind);
        var record = await _agent.RecordForAsync(response);
        Assert.Equal(UsageStatus.Rejected, record.Status);
        Assert.Equal((int)status, record.HttpStatus);
        Assert.Empty(_agent.Emulator.Received);
    }

    [Fact]
    public async Task A_GET_on_a_metered_route_is_405_in_the_apis_shape_with_a_rejected_record()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/chat/completions");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _agent.ClientKey);
        using var response = await _agent.Http.SendAsync(request);
        await AssertRejectedAsync(response, HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413_with_a_rejected_record()
    {
        var huge = "{\"model\":\"emu-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"" + new string('x', 70_000) + "\"}]}";
        using var response = await _agent.Http.SendAsync(_agent.OpenAIRequest("v1/chat/completions", huge));
        await AssertRejectedAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_415_with_a_rejected_record()
    {
        using var request = _agent.OpenAIRequest("v1/chat/completions", "model=x");
        request.Content = new StringContent("model=x", Encoding.UTF8, "application/x-www-form-urlencoded");
        using var response = await _agent.Http.SendAsync(request);
        await AssertRejectedAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task An_image_part_is_forwarded_and_the_record_says_non_text_input_and_counts_only_the_text()
    {
        using var response = await _agent.Http.SendAsync(_agent.OpenAIRequest("v1/chat/completions", """
            {"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":[
              {"type":"text","text":"What is in this picture?"},
              {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]}
            """));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = await _agent.RecordForAsync(response);
        Assert.Equal(UsageStatus.Completed, record.Status);
        Assert.True(record.NonTextInput);
        Assert.Equal(Count("user") + Count("What is in this picture?"), record.ReferenceInputTokens);
        Assert.Contains("image_url", Assert.Single(_agent.Emulator.Received).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_clients_key_never_reaches_the_upstream_in_any_header()
    {
        using (var openAi = await _agent.Http.SendAsync(_agent.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}""")))
        {
            Assert.Equal(HttpStatusCode.OK, openAi.StatusCode);
        }

        using (var anthropic = await _agent.Http.SendAsync(_agent.AnthropicRequest("""{"model":"emu-claude","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}""")))
        {
            Assert.Equal(HttpStatusCode.OK, anthropic.StatusCode);
        }

        // The key in x-api-key on an OpenAI route, as some clients send it.
        using var both = _agent.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}""");
        both.Headers.Add("x-api-key", _agent.ClientKey);
        using (var response = await _agent.Http.SendAsync(both))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var received = _agent.Emulator.Received.ToList();
        Assert.Equal(3, received.Count);
        Assert.All(received, r => Assert.DoesNotContain(r.Headers, h => h.Value.Contains(_agent.ClientKey, StringComparison.Ordinal)));
        Assert.Equal("Bearer " + TestAgent.UpstreamKey, received[0].Headers["Authorization"]);
        Assert.Equal(TestAgent.UpstreamKey, received[1].Headers["x-api-key"]);
    }
}

/// <summary>No admin token configured: the admin API is off (403), whatever bearer a caller tries.</summary>
public sealed class AdminApiOffTests
{
    [Fact]
    public async Task Without_an_admin_token_the_admin_api_answers_403()
    {
        await using var agent = await TestAgent.StartAsync(settings: new Dictionary<string, string?> { ["MeterAgent:AdminToken"] = null });
        using var anonymous = new HttpClient { BaseAddress = new Uri(agent.ManagementUrl) };
        using (var none = await anonymous.GetAsync("admin/accounts"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, none.StatusCode);
        }

        using var guessed = await agent.Admin.GetAsync("admin/accounts");
        Assert.Equal(HttpStatusCode.Forbidden, guessed.StatusCode);
        using var health = await anonymous.GetAsync("healthz/ready");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }
}

/// <summary>Credits end to end for what the README promises and no other test drove through the proxy.</summary>
public sealed class CreditsBehaviourTests : IAsyncLifetime
{
    private ClearingHouse _house = null!;
    private TestAgent _agent = null!;
    private int _deadPort;

    public async Task InitializeAsync()
    {
        _house = ClearingHouse.Create();
        _deadPort = FreePort.Next();
        _agent = await TestAgent.StartAsync(settings: _house.AgentSettings(
            ("ReverseProxy:Clusters:openai:HttpRequest:ActivityTimeout", "00:00:02"),
            ("ReverseProxy:Clusters:anthropic:Destinations:primary:Address", $"http://127.0.0.1:{_deadPort}/")));
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        _house.Dispose();
    }

    private async Task<JsonElement> BalanceAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/meteragent/balance");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _agent.ClientKey);
        using var response = await _agent.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task A_502_and_a_504_void_their_reservations()
    {
        await ClearingHouse.DeliverAsync(_agent.Admin, _house.Notice(_agent.AccountId, 5000));

        // 502: the anthropic cluster points at a port nobody listens on.
        using var unreachable = await _agent.Http.SendAsync(_agent.AnthropicRequest("""{"model":"emu-claude","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.BadGateway, unreachable.StatusCode);

        // 504: the upstream never answers within the 2 s activity timeout.
        using var hanging = _agent.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}""");
        hanging.Headers.Add("x-emulator-fault", "hang");
        using var timedOut = await _agent.Http.SendAsync(hanging);
        Assert.Equal(HttpStatusCode.GatewayTimeout, timedOut.StatusCode);

        foreach (var response in new[] { unreachable, timedOut })
        {
            var record = await _agent.RecordForAsync(response);
            Assert.Equal(UsageStatus.UpstreamFailed, record.Status);
            Assert.Equal(0, record.RedeemedMicro ?? 0);
            Assert.Equal(0, record.OverageMicro ?? 0);
        }

        var lot = (await BalanceAsync()).GetProperty("lots")[0];
        Assert.Equal(5000m, ClearingHouse.Units(lot, "available"));
        Assert.Equal(0m, ClearingHouse.Units(lot, "pending"));
        Assert.Equal(0m, ClearingHouse.Units(lot, "redeemed"));
    }

    [Fact]
    public async Task Allow_up_to_serves_into_overage_until_the_limit_then_refuses_with_402()
    {
        const decimal limit = 100m;
        using (var set = await _agent.Admin.PutAsJsonAsync($"admin/accounts/{_agent.AccountId}/policy", new { kind = "allow_up_to", limit }))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        }

        await ClearingHouse.DeliverAsync(_agent.Admin, _house.Notice(_agent.AccountId, 50));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 20 && !statuses.Contains(HttpStatusCode.PaymentRequired); i++)
        {
            using var response = await _agent.Http.SendAsync(_agent.OpenAIRequest("v1/chat/completions",
                """{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"one more"}]}"""));
            await response.Content.ReadAsStringAsync();
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.PaymentRequired)
            {
                // The code OpenAI's SDKs know; the message (and the record) says it is the limit, not the credits alone.
                var error = (await TestAgent.JsonAsync(response)).GetProperty("error");
                Assert.Equal("insufficient_quota", error.GetProperty("code").GetString());
                Assert.Contains("allow_up_to limit (overage_limit_exceeded)", error.GetProperty("message").GetString(), StringComparison.Ordinal);
                var record = await _agent.RecordForAsync(response);
                Assert.Equal(UsageStatus.Rejected, record.Status);
                Assert.Contains("overage_limit_exceeded", record.Error, StringComparison.Ordinal);
            }
        }

        // Each request costs about 3 + 2 x 8 units: 50 units serve two or three, the limit of 100 about five more.
        Assert.Equal(HttpStatusCode.PaymentRequired, statuses[^1]);
        Assert.True(statuses.Count(s => s == HttpStatusCode.OK) >= 4, $"served: {statuses.Count(s => s == HttpStatusCode.OK)}");
        var balance = await BalanceAsync();
        var overage = ClearingHouse.Units(balance, "overage");
        Assert.True(overage > 0 && overage <= limit, $"overage {overage} must be above 0 and at most the limit {limit}");
        Assert.Equal(0m, ClearingHouse.Units(balance.GetProperty("lots")[0], "available"));

        var records = await _agent.ClosedRecordsAsync(statuses.Count);
        Assert.Equal(overage * 1_000_000m, records.Sum(r => r.OverageMicro ?? 0));
        Assert.Equal(50m * 1_000_000m, records.Sum(r => r.RedeemedMicro ?? 0));
    }

    [Fact]
    public async Task A_correction_changes_what_the_account_can_redeem_and_is_kept_with_its_reason()
    {
        var lot = (await ClearingHouse.DeliverAsync(_agent.Admin, _house.Notice(_agent.AccountId, 100))).GetProperty("lot");
        var lotId = lot.GetProperty("lot_id").GetString();
        using (var corrected = await _agent.Admin.PostAsJsonAsync($"admin/lots/{lotId}/corrections", new { delta = -60, reason = "short delivery" }))
        {
            Assert.True(corrected.IsSuccessStatusCode, $"correction: {(int)corrected.StatusCode} {await corrected.Content.ReadAsStringAsync()}");
        }

        var balanceLot = (await BalanceAsync()).GetProperty("lots")[0];
        Assert.Equal(40m, ClearingHouse.Units(balanceLot, "available"));

        // 40 units no longer cover a request estimated at 3 + 2 x 32 under the default reject policy.
        using var refused = await _agent.Http.SendAsync(_agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","max_tokens":32,"messages":[{"role":"user","content":"one more"}]}"""));
        Assert.Equal(HttpStatusCode.PaymentRequired, refused.StatusCode);

        using (var restored = await _agent.Admin.PostAsJsonAsync($"admin/lots/{lotId}/corrections", new { delta = 60, reason = "found it" }))
        {
            Assert.True(restored.IsSuccessStatusCode);
        }

        using var served = await _agent.Http.SendAsync(_agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","max_tokens":32,"messages":[{"role":"user","content":"one more"}]}"""));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }
}

/// <summary>The agent itself failing: 500 in the API's shape and a `failed` record, never a bare error.</summary>
public sealed class AgentFailureTests
{
    [Fact]
    public async Task A_ledger_that_fails_mid_request_gives_500_in_the_apis_shape_and_a_failed_record()
    {
        using var house = ClearingHouse.Create();
        await using var agent = await TestAgent.StartAsync(settings: house.AgentSettings());
        await ClearingHouse.DeliverAsync(agent.Admin, house.Notice(agent.AccountId, 5000));

        // Break the ledger under the running agent: its lots table is gone, so the reservation throws.
        var database = agent.DatabasePath;
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Pooling = false }.ToString()))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "ALTER TABLE credit_lots RENAME TO credit_lots_gone";
            command.ExecuteNonQuery();
        }

        using var response = await agent.Http.SendAsync(agent.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(JsonValueKind.String, (await TestAgent.JsonAsync(response)).GetProperty("error").GetProperty("message").ValueKind);
        Assert.Equal(0, agent.Emulator.Stats.RequestsReceived);

        // The usage-id header goes out once the record is open and the request forwarded: this one never got there.
        var record = await agent.OnlyRecordAsync();
        Assert.Equal(UsageStatus.Failed, record.Status);
        Assert.Equal(500, record.HttpStatus);
    }
}
