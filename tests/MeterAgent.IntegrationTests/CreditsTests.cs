using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MeterAgent.Contracts.Deliveries;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.IntegrationTests;

/// <summary>Futures credits end to end: signed deliveries in, redemption against real usage through the proxy.</summary>
public sealed class CreditsTests : IAsyncLifetime
{
    private ClearingHouse _house = null!;
    private TestAgent _agent = null!;

    public async Task InitializeAsync()
    {
        _house = ClearingHouse.Create();
        _agent = await TestAgent.StartAsync(settings: _house.AgentSettings());
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        _house.Dispose();
    }

    private HttpRequestMessage Chat(bool stream, int maxTokens = 32) => _agent.OpenAIRequest("v1/chat/completions",
        $$"""{"model":"emu-chat","stream":{{(stream ? "true" : "false")}},"max_tokens":{{maxTokens}},"messages":[{"role":"user","content":"Price the strip."}]}""");

    /// <summary>Micro-units by the README's rule (1 unit = 1,000,000), not by the code under test.</summary>
    private static long Micro(decimal units) => (long)(units * 1_000_000m);

    private async Task<JsonElement> BalanceAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/meteragent/balance");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _agent.ClientKey);
        using var response = await _agent.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task A_delivery_lands_once_and_its_replay_changes_nothing()
    {
        var notice = _house.Notice(_agent.AccountId, 1000.5m, "dlv-once");
        var applied = await ClearingHouse.DeliverAsync(_agent.Admin, notice);
        Assert.Equal("applied", applied.GetProperty("outcome").GetString());
        Assert.Equal(1000.5m, ClearingHouse.Units(applied.GetProperty("lot"), "delivered"));

        using var replay = await ClearingHouse.PostAsync(_agent.Admin, notice);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        var replayed = await replay.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("replayed", replayed.GetProperty("outcome").GetString());
        Assert.Equal(applied.GetProperty("lot").GetProperty("lot_id").GetString(), replayed.GetProperty("lot").GetProperty("lot_id").GetString());

        var lots = (await BalanceAsync()).GetProperty("lots");
        Assert.Equal(1, lots.GetArrayLength());
        Assert.Equal(1000.5m, ClearingHouse.Units(lots[0], "available"));
    }

    [Fact]
    public async Task Refused_deliveries_say_why_and_change_nothing()
    {
        await ClearingHouse.DeliverAsync(_agent.Admin, _house.Notice(_agent.AccountId, 10, "dlv-base"));

        // The same id with another quantity.
        using var conflict = await ClearingHouse.PostAsync(_agent.Admin, _house.Notice(_agent.AccountId, 99, "dlv-base"));
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);

        // A payload changed after signing.
        var good = _house.Notice(_agent.AccountId, 10, "dlv-tampered");
        var parts = good.Split('.');
        var payload = Encoding.UTF8.GetString(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(parts[1])).Replace("\"10\"", "\"10000\"", StringComparison.Ordinal);
        var tampered = $"{parts[0]}.{Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(payload))}.{parts[2]}";
        await AssertRefusedAsync(tampered, HttpStatusCode.Unauthorized, "bad_signature");

        // Signed by a key the agent does not trust, under the trusted key's id.
        var (stranger, _) = DeliverySigner.CreateNew(_house.Signer.KeyId);
        using (stranger)
        {
            await AssertRefusedAsync(stranger.Sign(new DeliveryNoticeClaims("dlv-stranger", ClearingHouse.ContractId, 1, _agent.AccountId, 10,
                _house.WindowStart, _house.WindowEnd, DateTimeOffset.UtcNow)), HttpStatusCode.Unauthorized, "bad_signature");
        }

        await AssertRefusedAsync(_house.Notice(_agent.AccountId, 10, "dlv-expired", windowEnd: DateTimeOffset.UtcNow.AddMinutes(-1)), HttpStatusCode.UnprocessableEntity, "expired_window");
        await AssertRefusedAsync(_house.Notice(_agent.AccountId, 0, "dlv-zero"), HttpStatusCode.UnprocessableEntity, "invalid_quantity");
        await AssertRefusedAsync(_house.Notice("acct_nobody", 10, "dlv-nobody"), HttpStatusCode.UnprocessableEntity, "unknown_account");

        var lots = (await BalanceAsync()).GetProperty("lots");
        Assert.Equal(1, lots.GetArrayLength());
        Assert.Equal(10m, ClearingHouse.Units(lots[0], "delivered"));
    }

    private async Task AssertRefusedAsync(string jws, HttpStatusCode status, string code)
    {
        using var response = await ClearingHouse.PostAsync(_agent.Admin, jws);
        Assert.Equal(status, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(code, problem.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Without_credits_a_reject_account_gets_402_in_each_apis_shape_before_anything_goes_upstream()
    {
        var before = _agent.Emulator.Stats.RequestsReceived;
        using var openAi = await _agent.Http.SendAsync(Chat(stream: false));
        Assert.Equal(HttpStatusCode.PaymentRequired, openAi.StatusCode);
        var error = (await TestAgent.JsonAsync(openAi)).GetProperty("error");
        Assert.Equal("insufficient_quota", error.GetProperty("code").GetString());
        Assert.Equal("insufficient_quota", error.GetProperty("type").GetString());

        using var anthropic = await _agent.Http.SendAsync(_agent.AnthropicRequest("""{"model":"emu-claude","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.PaymentRequired, anthropic.StatusCode);
        Assert.Equal("error", (await TestAgent.JsonAsync(anthropic)).GetProperty("type").GetString());

        Assert.Equal(before, _agent.Emulator.Stats.RequestsReceived);
        var record = await _agent.RecordForAsync(openAi);
        Assert.Equal(UsageStatus.Rejected, record.Status);
        Assert.Equal(402, record.HttpStatus);
    }

    [Fact]
    public async Task A_request_redeems_exactly_its_units_and_the_record_names_the_lot()
    {
        var lot = (await ClearingHouse.DeliverAsync(_agent.Admin, _house.Notice(_agent.AccountId, 5000))).GetProperty("lot");
        using var response = await _agent.Http.SendAsync(Chat(stream: true));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();

        // Units by hand from the contract's weights (input 1, output 2) and counts taken independently of the code
        // under test: the input is the canonical text "user" + "Price the strip."; the output is the text the client
        // received, counted by the reference tokenizer (cross-checked against js-tiktoken in the metering tests).
        var output = string.Concat(body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e["data: ".Length..])
            .Where(d => d != "[DONE]")
            .Select(d => JsonDocument.Parse(d).RootElement.GetProperty("choices"))
            .Where(c => c.GetArrayLength() > 0 && c[0].GetProperty("delta").TryGetProperty("content", out _))
            .Select(c => c[0].GetProperty("delta").GetProperty("content").GetString()));
        var inputTokens = Count("user") + Count("Price the strip.");
        var outputTokens = Count(output);
        var expectedMicro = ((inputTokens * 1L) + (outputTokens * 2L)) * 1_000_000L;

        var record = await _agent.RecordForAsync(response);
        Assert.Equal(ClearingHouse.ContractId, record.ContractId);
        Assert.Equal(inputTokens, record.ReferenceInputTokens);
        Assert.Equal(outputTokens, record.ReferenceOutputTokens);
        Assert.Equal(expectedMicro, record.UnitsMicro);
        Assert.Equal(expectedMicro, record.RedeemedMicro);
        Assert.Equal(0, record.OverageMicro);
        Assert.Equal([lot.GetProperty("lot_id").GetString()!], record.LotIds);

        var view = await BalanceAsync();
        var balance = view.GetProperty("lots")[0];
        var expectedUnits = (inputTokens * 1m) + (outputTokens * 2m);
        Assert.Equal(expectedUnits, ClearingHouse.Units(balance, "redeemed"));
        Assert.Equal(0m, ClearingHouse.Units(balance, "pending"));
        Assert.Equal(5000m - expectedUnits, ClearingHouse.Units(balance, "available"));

        // The live counters: one request under the contract, with the same counts and units as its record.
        var usage = Assert.Single(view.GetProperty("usage").EnumerateArray());
        Assert.Equal(ClearingHouse.ContractId, usage.GetProperty("contract_id").GetString());
        Assert.Equal(1, usage.GetProperty("requests").GetInt64());
        Assert.Equal(inputTokens, usage.GetProperty("reference_input_tokens").GetInt64());
        Assert.Equal(outputTokens, usage.GetProperty("reference_output_tokens").GetInt64());
        Assert.Equal(expectedUnits, usage.GetProperty("units").GetDecimal());
        Assert.Equal(expectedUnits, usage.GetProperty("redeemed").GetDecimal());
    }

    private static int Count(string text) => MeterAgent.Metering.Tokenization.ReferenceTokenizer.Instance.CountTokens(text);

    [Fact]
    public async Task An_upstream_failure_voids_the_reservation()
    {
        await ClearingHouse.DeliverAsync(_agent.Admin, _house.Notice(_agent.AccountId, 5000));
        var request = Chat(stream: false);
        request.Headers.Add("x-emulator-fault", "error:500");
        using var response = await _agent.Http.SendAsync(request);
        var record = await _agent.RecordForAsync(response);
        Assert.Equal(UsageStatus.UpstreamError, record.Status);
        Assert.Equal(0, record.RedeemedMicro);

        var balance = (await BalanceAsync()).GetProperty("lots")[0];
        Assert.Equal(5000m, ClearingHouse.Units(balance, "available"));
        Assert.Equal(0m, ClearingHouse.Units(balance, "pending"));
    }

    [Fact]
    public Task A_client_sending_one_request_after_another_is_not_refused_for_the_hold_of_its_last() =>
        OneRequestAfterAnotherAsync(_agent, _house);

    /// <summary>
    /// A client in a loop on credits that cover its requests one after another, but not one request's estimate beside
    /// another's hold: every request is served, so none was reserved before the last one had posted. Shared with the
    /// distributed mode's tests.
    /// </summary>
    internal static async Task OneRequestAfterAnotherAsync(TestAgent agent, ClearingHouse house)
    {
        // Each request reserves input + 2 x 1,000 units (max_tokens 1,000; weights input 1, output 2) and uses about
        // input + 2 x 64 (the emulator writes at most 64 tokens). The reject policy refuses what the credits do not cover.
        const int requests = 8;
        const decimal delivered = 3400m;
        await ClearingHouse.DeliverAsync(agent.Admin, house.Notice(agent.AccountId, delivered));

        for (var i = 0; i < requests; i++)
        {
            // One connection, as a client in a loop uses: the next request is sent the moment the last one's body is in.
            using var response = await agent.Http.SendAsync(agent.OpenAIRequest("v1/chat/completions",
                $$"""{"model":"emu-chat","stream":{{(i % 2 == 1 ? "true" : "false")}},"max_tokens":1000,"messages":[{"role":"user","content":"Price the strip."}]}"""));
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.OK)
            {
                var before = await agent.ClosedRecordsAsync(i + 1);
                Assert.Fail($"request {i + 1} of {requests}: {(int)response.StatusCode} {body}; records: "
                    + string.Join("; ", before.Select(r => $"{r.Id} {r.Status} started {r.StartedAt:HH:mm:ss.ffffff} ended {r.EndedAt:HH:mm:ss.ffffff} units {r.UnitsMicro} redeemed {r.RedeemedMicro}")));
            }
        }

        var records = await agent.ClosedRecordsAsync(requests);
        Assert.All(records, r => Assert.Equal(UsageStatus.Completed, r.Status));

        // The premise, from what the records say: the credits cover the requests in turn, and not two estimates at once.
        var estimate = records.Max(r => r.ReferenceInputTokens) + (2 * 1000);
        var costliest = records.Max(r => r.UnitsMicro!.Value) / 1_000_000m;
        Assert.True(delivered - ((requests - 1) * costliest) >= estimate, "the credits cover every request in turn");
        Assert.True(delivered < 2 * estimate, "the credits do not cover two holds at once");

        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/meteragent/balance");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", agent.ClientKey);
        using var answer = await agent.Http.SendAsync(request);
        var lot = (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("lots")[0];
        Assert.Equal(0m, ClearingHouse.Units(lot, "pending"));
        Assert.Equal(records.Sum(r => r.RedeemedMicro ?? 0), Micro(ClearingHouse.Units(lot, "redeemed")));
        Assert.Equal(delivered, ClearingHouse.Units(lot, "available") + ClearingHouse.Units(lot, "redeemed"));
    }

    [Theory]
    [InlineData("reject")]
    [InlineData("allow")]
    [InlineData("allow_up_to")]
    public async Task Sixty_four_concurrent_streams_on_credits_that_cover_only_some(string policy)
    {
        // allow_up_to: about seven requests' worth of overage, far less than the 64 would take together.
        const decimal limit = 1000m;
        object body = policy == "allow_up_to" ? new { kind = policy, limit } : new { kind = policy };
        using (var set = await _agent.Admin.PutAsJsonAsync($"admin/accounts/{_agent.AccountId}/policy", body))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        }

        // Each request reserves about 10 + 2 x 64 units: 1,500 units cover about ten at a time, far from 64.
        const decimal delivered = 1500m;
        await ClearingHouse.DeliverAsync(_agent.Admin, _house.Notice(_agent.AccountId, delivered));

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
        {
            using var request = Chat(stream: true, maxTokens: 64);
            request.Headers.Add("x-emulator-tokens-per-second", "400");
            using var response = await _agent.Http.SendAsync(request);
            await response.Content.ReadAsStringAsync();
            return response.StatusCode;
        }));

        var served = outcomes.Count(s => s == HttpStatusCode.OK);
        var refused = outcomes.Count(s => s == HttpStatusCode.PaymentRequired);
        Assert.Equal(64, served + refused);
        if (policy == "allow")
        {
            Assert.Equal(64, served);
        }

        // Records close just after the client has its last byte: wait for the last ones.
        var records = await _agent.ClosedRecordsAsync(64);
        if (policy == "reject")
        {
            // Each reservation holds input + 2 x 64 units (weights input 1, output 2): until that many are held, nothing
            // can be refused, so at least delivered / estimate are served; and what was served was paid from the
            // delivered credit alone, so at most delivered / (the cheapest request) were.
            var estimate = records[0].ReferenceInputTokens + (2 * 64);
            var cheapest = records.Where(r => r.Status == UsageStatus.Completed).Min(r => r.UnitsMicro!.Value) / 1_000_000m;
            Assert.InRange(served, (int)(delivered / estimate), (int)(delivered / cheapest));
        }

        Assert.Equal(64, records.Count);
        Assert.DoesNotContain(records, r => r.Status == UsageStatus.Open);
        var charged = records.Where(r => r.Status == UsageStatus.Completed).ToList();
        Assert.Equal(served, charged.Count);

        var balance = await BalanceAsync();
        var lot = balance.GetProperty("lots")[0];
        var redeemed = Micro(ClearingHouse.Units(lot, "redeemed"));
        Assert.True(redeemed <= Micro(delivered), "never more redeemed than delivered");
        Assert.Equal(0m, ClearingHouse.Units(lot, "pending"));
        Assert.Equal(delivered, ClearingHouse.Units(lot, "available") + ClearingHouse.Units(lot, "redeemed"));

        // The records add up to the ledger: every unit used is either redeemed or overage.
        Assert.Equal(redeemed, charged.Sum(r => r.RedeemedMicro ?? 0));
        Assert.Equal(charged.Sum(r => r.UnitsMicro ?? 0), charged.Sum(r => (r.RedeemedMicro ?? 0) + (r.OverageMicro ?? 0)));
        Assert.Equal(Micro(ClearingHouse.Units(balance, "overage")), charged.Sum(r => r.OverageMicro ?? 0));
        Assert.Equal(0m, ClearingHouse.Units(balance, "overage_held")); // nothing in flight any more
        if (policy == "allow")
        {
            Assert.True(charged.Sum(r => r.OverageMicro ?? 0) > 0, "usage beyond the credits is overage under allow");
        }

        if (policy == "allow_up_to")
        {
            // Requests in flight together count against the limit, not only the overage already posted: no request uses
            // more than it reserved (the emulator keeps to max_tokens), so the overage never passes the limit.
            Assert.InRange(charged.Sum(r => r.OverageMicro ?? 0), 1, Micro(limit));
            Assert.True(refused > 0, "the limit refuses some of the 64");
        }
    }

    [Fact]
    public async Task The_account_sees_only_its_own_usage()
    {
        await ClearingHouse.DeliverAsync(_agent.Admin, _house.Notice(_agent.AccountId, 5000));
        using (var mine = await _agent.Http.SendAsync(Chat(stream: false)))
        {
            Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
        }

        var other = await _agent.Accounts.CreateAccountAsync("other");
        var otherKey = (await _agent.Accounts.IssueKeyAsync(other.Id))!.Secret;

        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/meteragent/usage");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", otherKey);
        using var response = await _agent.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("records").GetArrayLength());

        using var ownRequest = new HttpRequestMessage(HttpMethod.Get, "v1/meteragent/usage");
        ownRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _agent.ClientKey);
        using var own = await _agent.Http.SendAsync(ownRequest);
        Assert.Equal(1, (await own.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("records").GetArrayLength());
    }
}
