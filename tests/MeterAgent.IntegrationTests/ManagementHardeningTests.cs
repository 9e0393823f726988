using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace MeterAgent.IntegrationTests;

/// <summary>
/// The management port under hostile or careless input: oversized bodies are refused before they are buffered, and
/// malformed or out-of-range admin input is a 4xx problem that says what is wrong, never a 500.
/// </summary>
public sealed class ManagementHardeningTests : IAsyncLifetime
{
    private const long TwentyNineMegabytes = 29L * 1024 * 1024;

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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_29_MB_delivery_body_is_refused_with_413_before_it_is_read(bool chunked)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var response = await RawHttpPost.SendAsync(_agent.ManagementUrl, "/clearing/deliveries", "application/jose", TwentyNineMegabytes, chunked, TimeSpan.FromSeconds(30));

        Assert.Equal(413, response.Status);
        var problem = JsonDocument.Parse(response.Body).RootElement;
        Assert.Equal("too_large", problem.GetProperty("code").GetString());
        Assert.Contains("at most", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Reading it all and refusing afterwards would let the whole body through; the server stops far earlier (what
        // got out is the socket buffers' worth).
        Assert.True(response.BytesSent < TwentyNineMegabytes / 2, $"{response.BytesSent} bytes went out before the refusal");
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"took {started.Elapsed}");
    }

    [Fact]
    public async Task A_delivery_body_just_over_the_cap_is_413_and_one_at_the_cap_is_read()
    {
        const int Cap = 16 * 1024 + 1024;
        var over = await RawHttpPost.SendAsync(_agent.ManagementUrl, "/clearing/deliveries", "application/jose", Cap + 1, chunked: true, TimeSpan.FromSeconds(30));
        var at = await RawHttpPost.SendAsync(_agent.ManagementUrl, "/clearing/deliveries", "application/jose", Cap, chunked: true, TimeSpan.FromSeconds(30));

        Assert.Equal(413, over.Status);

        // Read whole, then judged by the verifier: 'A' * 17 KiB is no JWS.
        Assert.True(at.Status == 400, $"{at.Status}: {at.Body}");
        Assert.Equal("malformed", JsonDocument.Parse(at.Body).RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task An_oversized_admin_body_is_413_in_the_problem_shape()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "admin/accounts")
        {
            Content = new StringContent($$"""{"name":"{{new string('n', 70 * 1024)}}"}""", Encoding.UTF8, "application/json"),
        };

        using var response = await _agent.Admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("65536", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"notice\":", "malformed")]
    [InlineData("{\"notice\":42}", "malformed")]
    [InlineData("[\"a.b.c\"]", "malformed")]
    [InlineData("{\"notice\":\"a.b\"}", "malformed")]
    [InlineData("{\"notice\":\"a.b.c.d\"}", "malformed")]
    public async Task A_malformed_json_delivery_wrapper_is_400_not_500(string body, string code)
    {
        using var response = await _agent.Admin.PostAsync("clearing/deliveries", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(code, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("admin/accounts", "POST", "{\"name\":", "'name'")]
    [InlineData("admin/accounts", "POST", "{\"name\" \"x\"}", "The body")]
    [InlineData("admin/accounts", "POST", "{\"name\":42}", "'name'")]
    [InlineData("admin/accounts", "POST", "null", "JSON object")]
    [InlineData("admin/accounts/{account}/policy", "PUT", "{\"kind\":\"allow_up_to\",\"limit\":\"lots\"}", "'limit'")]
    [InlineData("admin/accounts/{account}/policy", "PUT", "{\"kind\":\"allow_up_to\",\"limit\":1e40}", "'limit'")]
    [InlineData("admin/accounts/{account}/policy", "PUT", "{\"kind\":\"allow_up_to\",\"limit\":1.0000001}", "more than 6 decimals")]
    [InlineData("admin/accounts/{account}/policy", "PUT", "{\"kind\":\"allow_up_to\",\"limit\":79228162514264337593543950335}", "too large")]
    [InlineData("admin/accounts/{account}/policy", "PUT", "{\"kind\":\"allow_up_to\",\"limit\":-1}", "non-negative")]
    [InlineData("admin/accounts/{account}/policy", "PUT", "{\"kind\":[]}", "'kind'")]
    [InlineData("admin/lots/{lot}/corrections", "POST", "{\"delta\":true,\"reason\":\"x\"}", "'delta'")]
    [InlineData("admin/lots/{lot}/corrections", "POST", "{\"delta\":1.0000001,\"reason\":\"x\"}", "more than 6 decimals")]
    [InlineData("admin/lots/{lot}/corrections", "POST", "{\"delta\":-0.0000001,\"reason\":\"x\"}", "more than 6 decimals")]
    [InlineData("admin/lots/{lot}/corrections", "POST", "{\"delta\":9223372036855,\"reason\":\"x\"}", "too large")]
    [InlineData("admin/lots/{lot}/corrections", "POST", "{\"delta\":-79228162514264337593543950335,\"reason\":\"x\"}", "too large")]
    [InlineData("admin/lots/{lot}/corrections", "POST", "{\"delta\":1e40,\"reason\":\"x\"}", "'delta'")]
    [InlineData("admin/lots/{lot}/corrections", "POST", "{\"delta\":5}", "'reason'")]
    [InlineData("admin/lots/{lot}/corrections", "POST", "", "The body")]
    public async Task Bad_admin_input_is_400_with_a_message_that_names_the_problem(string path, string method, string body, string mentions)
    {
        var lotId = await DeliveredLotAsync(10);
        using var request = new HttpRequestMessage(new HttpMethod(method), path.Replace("{account}", _agent.AccountId, StringComparison.Ordinal).Replace("{lot}", lotId, StringComparison.Ordinal))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };

        using var response = await _agent.Admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(mentions, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertLotUnchangedAsync(lotId, 10);
    }

    [Fact]
    public async Task A_correction_of_an_unknown_lot_is_404()
    {
        using var response = await _agent.Admin.PostAsJsonAsync("admin/lots/lot_doesnotexist/corrections", new { delta = 5, reason = "typo" });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("lot_doesnotexist", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_correction_below_zero_is_409_and_one_within_the_lot_applies()
    {
        var lotId = await DeliveredLotAsync(10);

        using (var below = await _agent.Admin.PostAsJsonAsync($"admin/lots/{lotId}/corrections", new { delta = -10.000001m, reason = "too much" }))
        {
            Assert.Equal(HttpStatusCode.Conflict, below.StatusCode);
            Assert.Contains("below zero", (await below.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        await AssertLotUnchangedAsync(lotId, 10);

        using var ok = await _agent.Admin.PostAsJsonAsync($"admin/lots/{lotId}/corrections", new { delta = -2.5m, reason = "partial cancel" });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(7.5m, ClearingHouse.Units(await ok.Content.ReadFromJsonAsync<JsonElement>(), "available"));
    }

    [Fact]
    public async Task A_policy_limit_with_six_decimals_is_kept_exactly()
    {
        using var response = await _agent.Admin.PutAsJsonAsync($"admin/accounts/{_agent.AccountId}/policy", new { kind = "allow_up_to", limit = 12.000001m });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(12.000001m, ClearingHouse.Units(await response.Content.ReadFromJsonAsync<JsonElement>(), "limit"));
    }

    [Fact]
    public async Task A_policy_for_an_unknown_account_is_404()
    {
        using var response = await _agent.Admin.PutAsJsonAsync("admin/accounts/acct_nobody/policy", new { kind = "allow" });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private async Task<string> DeliveredLotAsync(decimal quantity)
    {
        var lots = await _agent.Admin.GetFromJsonAsync<JsonElement>($"admin/accounts/{_agent.AccountId}/lots");
        if (lots.GetArrayLength() > 0)
        {
            return lots[0].GetProperty("lot_id").GetString()!;
        }

        var applied = await ClearingHouse.DeliverAsync(_agent.Admin, _house.Notice(_agent.AccountId, quantity));
        return applied.GetProperty("lot").GetProperty("lot_id").GetString()!;
    }

    private async Task AssertLotUnchangedAsync(string lotId, decimal delivered)
    {
        var lots = await _agent.Admin.GetFromJsonAsync<JsonElement>($"admin/accounts/{_agent.AccountId}/lots");
        var lot = lots.EnumerateArray().Single(l => l.GetProperty("lot_id").GetString() == lotId);
        Assert.Equal(delivered, ClearingHouse.Units(lot, "delivered"));
        Assert.Equal(delivered, ClearingHouse.Units(lot, "available"));
    }
}
