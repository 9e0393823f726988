using System.Net;
using System.Net.Http.Headers;
using System.Text;
using MeterAgent.Attestation.Notes;

namespace MeterAgent.IntegrationTests.Hardening;

/// <summary>
/// The admin, clearing, log, metrics, health and OpenAPI endpoints answer only on the management port; the proxy
/// routes and the account API only on the client port. Each is asked on the wrong port with valid credentials, so a
/// 404 there is the listener check, not a missing token.
/// </summary>
public sealed class PortSeparationTests : IAsyncLifetime
{
    private const string ReadToken = "clearing-house-read-token-for-port-tests";
    private readonly TempFolder _folder = new("meteragent-ports-");
    private ClearingHouse _house = null!;
    private TestAgent _agent = null!;

    public async Task InitializeAsync()
    {
        _house = ClearingHouse.Create();
        var key = NoteKeyPair.Generate("meteragent.test/log");
        _agent = await TestAgent.StartAsync(settings: _house.AgentSettings(
            ("Attestation:SigningKeyPath", _folder.Write("log.skey", key.SignerKey)),
            ("Attestation:ReadToken", ReadToken)));
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        _house.Dispose();
        _folder.Dispose();
    }

    public static TheoryData<string, string, string> ManagementOnly => new()
    {
        { "GET", "admin/accounts", TestAgent.AdminToken },
        { "POST", "admin/accounts", TestAgent.AdminToken },
        { "GET", "admin/usage", TestAgent.AdminToken },
        { "GET", "admin/accounts/{account}/lots", TestAgent.AdminToken },
        { "GET", "admin/accounts/{account}/rate-limits", TestAgent.AdminToken },
        { "POST", "clearing/deliveries", string.Empty },
        { "GET", "log/checkpoint", ReadToken },
        { "GET", "log/statements", ReadToken },
        { "GET", "log/key", string.Empty },
        { "GET", "log/keys", string.Empty },
        { "GET", "metrics", string.Empty },
        { "GET", "healthz/live", string.Empty },
        { "GET", "healthz/ready", string.Empty },
        { "GET", "openapi/admin.json", string.Empty },
        { "GET", "openapi/clearing.json", string.Empty },
        { "GET", "openapi/account.json", string.Empty },
    };

    [Theory]
    [MemberData(nameof(ManagementOnly))]
    public async Task A_management_endpoint_is_404_on_the_client_port_and_served_on_the_management_port(string method, string path, string token)
    {
        using var wrongPort = await SendAsync(_agent.ProxyUrl, method, path, token);
        Assert.Equal(HttpStatusCode.NotFound, wrongPort.StatusCode);

        using var rightPort = await SendAsync(_agent.ManagementUrl, method, path, token);
        Assert.NotEqual(HttpStatusCode.NotFound, rightPort.StatusCode);
    }

    public static TheoryData<string, string> ClientOnly => new()
    {
        { "POST", "v1/chat/completions" },
        { "POST", "v1/responses" },
        { "POST", "v1/messages" },
        { "GET", "v1/meteragent/balance" },
        { "GET", "v1/meteragent/usage" },
    };

    [Theory]
    [MemberData(nameof(ClientOnly))]
    public async Task A_client_route_is_404_on_the_management_port_and_served_on_the_client_port(string method, string path)
    {
        using var wrongPort = await SendAsync(_agent.ManagementUrl, method, path, _agent.ClientKey);
        Assert.Equal(HttpStatusCode.NotFound, wrongPort.StatusCode);

        using var rightPort = await SendAsync(_agent.ProxyUrl, method, path, _agent.ClientKey);
        Assert.NotEqual(HttpStatusCode.NotFound, rightPort.StatusCode);
    }

    [Fact]
    public async Task The_log_keys_well_known_document_is_on_both_ports()
    {
        foreach (var port in new[] { _agent.ProxyUrl, _agent.ManagementUrl })
        {
            using var response = await SendAsync(port, "GET", ".well-known/meteragent/log-keys", string.Empty);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(string baseUrl, string method, string path, string token)
    {
        using var client = new HttpClient { BaseAddress = new Uri(baseUrl) };
        using var request = new HttpRequestMessage(new HttpMethod(method), path.Replace("{account}", _agent.AccountId, StringComparison.Ordinal));
        if (token.Length > 0)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (method == "POST")
        {
            request.Content = new StringContent(path.StartsWith("clearing", StringComparison.Ordinal)
                ? _house.Notice(_agent.AccountId, 5)
                : """{"name":"ports","model":"emu-chat","max_tokens":4,"input":"hi","messages":[{"role":"user","content":"hi"}]}""",
                Encoding.UTF8, path.StartsWith("clearing", StringComparison.Ordinal) ? "application/jose" : "application/json");
        }

        var response = await client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }
}
