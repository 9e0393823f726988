using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MeterAgent.Ledger.Usage;
using OpenAI;
using OpenAI.Chat;

namespace MeterAgent.IntegrationTests;

/// <summary>Token and request rate limits through the real agent, with the official OpenAI SDK as the client.</summary>
public sealed class RateLimitTests : IAsyncLifetime
{
    private TestAgent _agent = null!;

    public async Task InitializeAsync() => _agent = await TestAgent.StartAsync();

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    /// <summary>Retries off: the SDK retries a 429 by default (honouring retry-after), which would hide the refusals.</summary>
    private ChatClient Chat() => new OpenAIClient(
        new ApiKeyCredential(_agent.ClientKey),
        new OpenAIClientOptions { Endpoint = new Uri(_agent.ProxyUrl + "v1"), RetryPolicy = new ClientRetryPolicy(maxRetries: 0) })
        .GetChatClient("emu-chat");

    private async Task SetAccountLimitsAsync(long? tokensPerMinute, long? requestsPerMinute)
    {
        using var response = await _agent.Admin.PutAsJsonAsync(
            $"admin/accounts/{_agent.AccountId}/rate-limits",
            new Dictionary<string, long?> { ["tokens_per_minute"] = tokensPerMinute, ["requests_per_minute"] = requestsPerMinute });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static string? Header(PipelineResponse response, string name) => response.Headers.TryGetValue(name, out var value) ? value : null;

    [Fact]
    public async Task A_client_sending_one_request_after_another_is_not_limited_by_the_estimate_of_its_last()
    {
        // Each request is charged input + max_tokens (2,000) at admission and corrected to its actual (about input + 64;
        // the emulator writes at most 64 tokens) at settlement. The limit admits eight such requests one after another,
        // refill aside, but not one estimate beside another's uncorrected: a request admitted before the last one's
        // correction would get 429.
        const long Limit = 3400;
        const int Requests = 8;
        await SetAccountLimitsAsync(Limit, null);
        var chat = Chat();
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 2000 };
        for (var i = 0; i < Requests; i++)
        {
            try
            {
                await chat.CompleteChatAsync([new UserChatMessage("Quote the strip.")], options);
            }
            catch (ClientResultException refused)
            {
                Assert.Fail($"request {i + 1} of {Requests}: {refused.Status} {refused.Message}");
            }
        }

        // The premise, from what the records say: the requests fit in turn, and two estimates do not fit at once.
        var records = await _agent.ClosedRecordsAsync(Requests);
        var estimate = records.Max(r => r.ReferenceInputTokens) + 2000;
        var costliest = records.Max(r => r.ReferenceInputTokens + r.ReferenceOutputTokens);
        Assert.True(Limit - ((Requests - 1) * costliest) >= estimate, "the limit admits every request in turn");
        Assert.True(Limit < 2 * estimate, "the limit does not admit two estimates at once");
    }

    [Fact]
    public async Task Sixty_four_concurrent_requests_admit_tokens_within_the_documented_overshoot_and_the_rest_get_429_with_the_headers()
    {
        const long Limit = 300;
        await SetAccountLimitsAsync(Limit, null);
        var chat = Chat();
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 20 };
        var clock = Stopwatch.StartNew();
        var start = new TaskCompletionSource();
        var calls = Enumerable.Range(0, 64).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            try
            {
                var result = await chat.CompleteChatAsync([new UserChatMessage("Quote the strip.")], options);
                return (Ok: result.GetRawResponse(), Refused: (ClientResultException?)null);
            }
            catch (ClientResultException refused)
            {
                return (Ok: (PipelineResponse?)null, Refused: refused);
            }
        })).ToArray();
        start.SetResult();
        var outcomes = await Task.WhenAll(calls);
        var elapsed = clock.Elapsed;

        var admitted = outcomes.Where(o => o.Ok is not null).Select(o => o.Ok!).ToList();
        var refused = outcomes.Where(o => o.Refused is not null).Select(o => o.Refused!).ToList();
        Assert.NotEmpty(admitted);
        Assert.NotEmpty(refused);

        foreach (var refusal in refused)
        {
            Assert.Equal(429, refusal.Status);
            var raw = refusal.GetRawResponse()!;
            var error = JsonDocument.Parse(raw.Content.ToString()).RootElement.GetProperty("error");
            Assert.Equal("rate_limit_error", error.GetProperty("type").GetString());
            Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
            Assert.Equal("300", Header(raw, "x-ratelimit-limit-tokens"));
            Assert.InRange(long.Parse(Header(raw, "x-ratelimit-remaining-tokens")!, CultureInfo.InvariantCulture), 0, Limit);
            Assert.NotNull(Header(raw, "x-ratelimit-reset-tokens"));
            Assert.InRange(int.Parse(Header(raw, "retry-after")!, CultureInfo.InvariantCulture), 1, 60);
            Assert.Null(Header(raw, "x-ratelimit-limit-requests")); // no request limit set
        }

        // Admitted responses carry the headers too, the agent's over the upstream's.
        Assert.All(admitted, ok => Assert.Equal("300", Header(ok, "x-ratelimit-limit-tokens")));

        var records = await _agent.ClosedRecordsAsync(64);
        var served = records.Where(r => r.Status == UsageStatus.Completed).ToList();
        var rejected = records.Where(r => r.Status == UsageStatus.Rejected).ToList();
        Assert.Equal(admitted.Count, served.Count);
        Assert.Equal(refused.Count, rejected.Count);
        Assert.All(rejected, r => Assert.Equal(429, r.HttpStatus));

        // The documented bound (docs/rate-limits.md): what the bucket holds at any moment (a request's estimate while it
        // runs, its actual once settled) never exceeds the limit plus what drained meanwhile. A request that settled
        // during the burst gave back estimate − actual, which a later one may take (a refused one waits for those
        // settlements and is charged again), so each admitted request counts at the lesser of the two; the actual
        // exceeds the bound only by requests whose actual exceeded their estimate.
        var refill = (long)Math.Ceiling(Limit * elapsed.TotalSeconds / 60);
        var charged = served.Sum(r => r.ReferenceInputTokens + Math.Min(r.ReferenceOutputTokens, options.MaxOutputTokenCount!.Value));
        Assert.True(charged <= Limit + refill, $"admitted {served.Count} requests holding {charged} tokens at their least > {Limit} + {refill}");
        var overshoot = served.Sum(r => Math.Max(0, r.ReferenceOutputTokens - options.MaxOutputTokenCount!.Value));
        var actual = served.Sum(r => r.ReferenceInputTokens + r.ReferenceOutputTokens);
        Assert.True(actual <= Limit + refill + overshoot, $"admitted actual {actual} > {Limit} + {refill} + {overshoot}");
    }

    [Fact]
    public async Task Omitting_max_tokens_does_not_dodge_the_limit_the_default_max_output_is_charged()
    {
        // Credits:DefaultMaxOutputTokens (4096) stands in for a missing max_tokens: under 1000 a minute it never fits.
        await SetAccountLimitsAsync(1000, null);
        var never = await Assert.ThrowsAsync<ClientResultException>(() => Chat().CompleteChatAsync([new UserChatMessage("Quote the strip.")]));
        Assert.Equal(429, never.Status);
        Assert.Null(Header(never.GetRawResponse()!, "retry-after"));
        Assert.Contains("max_tokens", never.GetRawResponse()!.Content.ToString(), StringComparison.Ordinal);

        // Under 5000, one such request fits at a time; once it settles the charge is its actual, and the next fits.
        await SetAccountLimitsAsync(5000, null);

        // The bucket refills from the first request's admission on: time it from before the request is sent, so the
        // refill allowed below is never less than the real one (timed from its response, a slow machine's first request
        // left a token or two of real refill uncounted, and the bound failed by one).
        var sinceFirst = Stopwatch.StartNew();
        var first = await Chat().CompleteChatAsync([new UserChatMessage("Quote the strip.")]);
        var remainingAfterFirst = long.Parse(Header(first.GetRawResponse(), "x-ratelimit-remaining-tokens")!, CultureInfo.InvariantCulture);
        Assert.InRange(remainingAfterFirst, 0, 5000 - 4096);
        var record = await _agent.RecordAsync(Header(first.GetRawResponse(), "x-meteragent-usage-id")!);
        var second = await Eventually.ThatAsync<PipelineResponse?>(
            async () =>
            {
                try
                {
                    return (await Chat().CompleteChatAsync([new UserChatMessage("Again.")])).GetRawResponse();
                }
                catch (ClientResultException e) when (e.Status == 429)
                {
                    return null;
                }
            },
            response => response is not null,
            "a second request once the first settled");
        var remaining = long.Parse(Header(second!, "x-ratelimit-remaining-tokens")!, CultureInfo.InvariantCulture);
        var refill = (long)Math.Ceiling(5000 * sinceFirst.Elapsed.TotalSeconds / 60);
        Assert.True(remaining <= 5000 - (record.ReferenceInputTokens + record.ReferenceOutputTokens) - 4096 + refill,
            $"remaining {remaining}: the first request's actual was not kept after its correction");
    }

    [Fact]
    public async Task Streaming_is_charged_up_front_like_any_request_and_corrected_to_what_was_streamed()
    {
        const long Limit = 100;
        await SetAccountLimitsAsync(Limit, null);
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 20 };

        // Five streams opened together: their estimates are charged before any output, so not all fit.
        var streams = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => Task.Run(async () =>
        {
            try
            {
                var text = new StringBuilder();
                await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage("Stream the strip.")], options))
                {
                    foreach (var part in update.ContentUpdate)
                    {
                        text.Append(part.Text);
                    }
                }

                return 200;
            }
            catch (ClientResultException e)
            {
                return e.Status;
            }
        })));

        Assert.Contains(429, streams);
        Assert.Contains(200, streams);
        var records = await _agent.ClosedRecordsAsync(5);
        var served = records.Where(r => r.Status == UsageStatus.Completed).ToList();
        Assert.All(served, r => Assert.True(r.Stream));
        Assert.True(served.Sum(r => r.ReferenceInputTokens + 20) <= Limit + 5, "streamed estimates over the limit");

        // Settled: the bucket holds the streams' actual usage, not their estimates.
        var actual = served.Sum(r => r.ReferenceInputTokens + r.ReferenceOutputTokens);
        using var probe = await _agent.Http.SendAsync(_agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","max_tokens":1,"messages":[{"role":"user","content":"x"}]}"""));
        var remaining = long.Parse(probe.Headers.GetValues("x-ratelimit-remaining-tokens").Single(), CultureInfo.InvariantCulture);
        Assert.InRange(remaining, Limit - actual - 10, Limit);
    }

    [Fact]
    public async Task Anthropic_clients_get_429_in_their_own_shape_with_request_headers()
    {
        await SetAccountLimitsAsync(null, 1);
        const string Body = """{"model":"emu-claude","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}""";
        using var first = await _agent.Http.SendAsync(_agent.AnthropicRequest(Body));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("0", first.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.Equal("1m0s", first.Headers.GetValues("x-ratelimit-reset-requests").Single());

        using var second = await _agent.Http.SendAsync(_agent.AnthropicRequest(Body));
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        var json = await TestAgent.JsonAsync(second);
        Assert.Equal("error", json.GetProperty("type").GetString());
        Assert.Equal("rate_limit_error", json.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal("60", second.Headers.GetValues("retry-after").Single());
        Assert.Equal(UsageStatus.Rejected, (await _agent.RecordForAsync(second)).Status);
    }

    [Fact]
    public async Task The_admin_api_sets_gets_and_clears_account_and_key_limits_and_refuses_bad_input()
    {
        var keyId = (await _agent.Accounts.ListKeysAsync(_agent.AccountId)).Single().KeyId;
        var account = $"admin/accounts/{_agent.AccountId}/rate-limits";
        var key = $"admin/accounts/{_agent.AccountId}/keys/{keyId}/rate-limits";

        var none = await _agent.Admin.GetFromJsonAsync<JsonElement>(account);
        Assert.Equal("none", none.GetProperty("source").GetString());
        Assert.Equal(JsonValueKind.Null, none.GetProperty("tokens_per_minute").ValueKind);

        using (var set = await _agent.Admin.PutAsync(account, Json("""{"tokens_per_minute":40000,"requests_per_minute":60}""")))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        }

        var got = await _agent.Admin.GetFromJsonAsync<JsonElement>(account);
        Assert.Equal(40000, got.GetProperty("tokens_per_minute").GetInt64());
        Assert.Equal(60, got.GetProperty("requests_per_minute").GetInt64());
        Assert.Equal("account", got.GetProperty("source").GetString());

        using (var set = await _agent.Admin.PutAsync(key, Json("""{"requests_per_minute":5}""")))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        }

        var keyLimits = await _agent.Admin.GetFromJsonAsync<JsonElement>(key);
        Assert.Equal(5, keyLimits.GetProperty("requests_per_minute").GetInt64());
        Assert.Equal(JsonValueKind.Null, keyLimits.GetProperty("tokens_per_minute").ValueKind);
        Assert.Equal(keyId, keyLimits.GetProperty("key_id").GetString());

        // The key's limit binds before the account's: the proxy reports the tighter one.
        using var proxied = await _agent.Http.SendAsync(_agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","max_tokens":4,"messages":[{"role":"user","content":"x"}]}"""));
        Assert.Equal("5", proxied.Headers.GetValues("x-ratelimit-limit-requests").Single());
        Assert.Equal("40000", proxied.Headers.GetValues("x-ratelimit-limit-tokens").Single());

        foreach (var (body, member) in new[]
        {
            ("""{"tokens_per_minute":0}""", "tokens_per_minute"),
            ("""{"requests_per_minute":-3}""", "requests_per_minute"),
            ("""{"tokens_per_minute":"many"}""", "tokens_per_minute"),
            ("""{"tokens_per_min":100}""", "tokens_per_min"),
        })
        {
            using var bad = await _agent.Admin.PutAsync(account, Json(body));
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            var problem = await bad.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(400, problem.GetProperty("status").GetInt32());
            Assert.Contains(member, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        using (var unknown = await _agent.Admin.PutAsync("admin/accounts/acct_nobody/rate-limits", Json("""{"tokens_per_minute":1}""")))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        using (var foreign = await _agent.Admin.GetAsync($"admin/accounts/{_agent.AccountId}/keys/key_not_here/rate-limits"))
        {
            Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        }

        using (var anonymous = new HttpClient { BaseAddress = _agent.Admin.BaseAddress })
        using (var refused = await anonymous.GetAsync(account))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using (var cleared = await _agent.Admin.DeleteAsync(account))
        {
            Assert.Equal(HttpStatusCode.NoContent, cleared.StatusCode);
        }

        Assert.Equal("none", (await _agent.Admin.GetFromJsonAsync<JsonElement>(account)).GetProperty("source").GetString());
        Assert.Equal("key", (await _agent.Admin.GetFromJsonAsync<JsonElement>(key)).GetProperty("source").GetString());
    }

    [Fact]
    public async Task A_default_from_configuration_applies_and_a_bad_one_stops_start_up_naming_the_key()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => TestAgent.StartAsync(settings: new Dictionary<string, string?>
        {
            ["RateLimits:DefaultTokensPerMinute"] = "0",
        }));
        Assert.Contains("RateLimits:DefaultTokensPerMinute", failure.Message, StringComparison.Ordinal);

        await using var agent = await TestAgent.StartAsync(settings: new Dictionary<string, string?>
        {
            ["RateLimits:DefaultRequestsPerMinute"] = "2",
        });
        var got = await agent.Admin.GetFromJsonAsync<JsonElement>($"admin/accounts/{agent.AccountId}/rate-limits");
        Assert.Equal("default", got.GetProperty("source").GetString());
        Assert.Equal(2, got.GetProperty("requests_per_minute").GetInt64());
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
