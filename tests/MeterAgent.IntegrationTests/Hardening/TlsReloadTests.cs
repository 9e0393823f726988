using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace MeterAgent.IntegrationTests.Hardening;

/// <summary>
/// TLS on both ports from PEM files, and a renewal without a restart: the files are replaced and new connections are
/// shown the new certificate (within ReloadingCertificate.CheckInterval), while the agent keeps serving.
/// </summary>
public sealed class TlsReloadTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new("meteragent-tls-reload-");
    private X509Certificate2 _first = null!;
    private TestAgent _agent = null!;

    private string ProxyCertificate => _folder.File("proxy.crt");

    private string ProxyKey => _folder.File("proxy.key");

    private string ManagementCertificate => _folder.File("management.crt");

    private string ManagementKey => _folder.File("management.key");

    public async Task InitializeAsync()
    {
        _first = TestCertificates.Server("CN=first");
        TestCertificates.WritePem(_first, ProxyCertificate, ProxyKey);
        TestCertificates.WritePem(_first, ManagementCertificate, ManagementKey);
        _agent = await TestAgent.StartAsync(settings: new Dictionary<string, string?>
        {
            ["MeterAgent:ProxyTls:CertificatePath"] = ProxyCertificate,
            ["MeterAgent:ProxyTls:KeyPath"] = ProxyKey,
            ["MeterAgent:ManagementTls:CertificatePath"] = ManagementCertificate,
            ["MeterAgent:ManagementTls:KeyPath"] = ManagementKey,
        });
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        _first.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public async Task The_client_port_serves_its_certificate_and_a_replaced_one_on_new_connections()
    {
        Assert.Equal(_first.GetCertHashString(), await ProxyThumbprintAsync());

        using var second = TestCertificates.Server("CN=second");
        TestCertificates.WritePem(second, ProxyCertificate, ProxyKey);

        await Eventually.ThatAsync(ProxyThumbprintAsync, seen => seen == second.GetCertHashString(), "the client port shows the new certificate");

        // The management port's files did not change: it still shows the first.
        Assert.Equal(_first.GetCertHashString(), await ManagementThumbprintAsync());
    }

    [Fact]
    public async Task The_management_port_reloads_its_certificate_too()
    {
        Assert.Equal(_first.GetCertHashString(), await ManagementThumbprintAsync());

        using var second = TestCertificates.Server("CN=second");
        TestCertificates.WritePem(second, ManagementCertificate, ManagementKey);

        await Eventually.ThatAsync(ManagementThumbprintAsync, seen => seen == second.GetCertHashString(), "the management port shows the new certificate");
    }

    [Fact]
    public async Task A_half_written_renewal_keeps_the_last_good_certificate_until_the_pair_loads()
    {
        using var second = TestCertificates.Server("CN=second");

        // The certificate is replaced, its key not yet: they do not match, so the old pair keeps serving.
        File.WriteAllText(ProxyCertificate, second.ExportCertificatePem());
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Equal(_first.GetCertHashString(), await ProxyThumbprintAsync());

        TestCertificates.WritePem(second, ProxyCertificate, ProxyKey);
        await Eventually.ThatAsync(ProxyThumbprintAsync, seen => seen == second.GetCertHashString(), "the completed renewal is served");
    }

    [Fact]
    public async Task A_client_port_certificate_that_does_not_load_stops_start_up_naming_the_key()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => TestAgent.StartAsync(settings: new Dictionary<string, string?>
        {
            ["MeterAgent:ProxyTls:CertificatePath"] = _folder.Write("garbage.crt", "not a certificate"),
        }));
        Assert.Contains("MeterAgent:ProxyTls:CertificatePath", failure.ToString(), StringComparison.Ordinal);
    }

    /// <summary>A new client, so a new connection and handshake; the request must be served, not only the handshake.</summary>
    private async Task<string> ProxyThumbprintAsync()
    {
        var seen = new ConcurrentQueue<string>();
        using var client = TestCertificates.Observing(_agent.ProxyUrl, seen.Enqueue);
        using var request = _agent.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}""");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return seen.Last();
    }

    private async Task<string> ManagementThumbprintAsync()
    {
        var seen = new ConcurrentQueue<string>();
        using var client = TestCertificates.Observing(_agent.ManagementUrl, seen.Enqueue);
        using var response = await client.GetAsync("healthz/live");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return seen.Last();
    }
}
