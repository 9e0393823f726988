using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MeterAgent.IntegrationTests.Infrastructure;

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

}
