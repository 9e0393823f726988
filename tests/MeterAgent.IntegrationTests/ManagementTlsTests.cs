using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MeterAgent.Attestation.Notes;

namespace MeterAgent.IntegrationTests;

/// <summary>
/// Mutual TLS on the management port: the clearing house presents a client certificate from the configured CA and its
/// bearer token; a connection without a certificate, or with one from another CA, never reaches an endpoint.
/// </summary>
public sealed class ManagementTlsTests : IAsyncLifetime
{
    private const string ReadToken = "clearing-house-read-token-for-tests";
    private readonly TempFolder _folder = new("meteragent-mtls-");
    private X509Certificate2 _ca = null!;
    private X509Certificate2 _server = null!;
    private X509Certificate2 _client = null!;
    private X509Certificate2 _stranger = null!;
    private TestAgent _agent = null!;

    public async Task InitializeAsync()
    {
        _ca = Authority("CN=Clearing CA");
        using var strangerCa = Authority("CN=Someone else's CA");
        _server = Issue(_ca, "CN=meteragent", server: true);
        _client = Issue(_ca, "CN=clearing-house", server: false);
        _stranger = Issue(strangerCa, "CN=clearing-house", server: false);

        var key = NoteKeyPair.Generate("meteragent.test/log");
        _agent = await TestAgent.StartAsync(settings: new Dictionary<string, string?>
        {
            ["MeterAgent:ManagementTls:CertificatePath"] = _folder.Write("server.crt", _server.ExportCertificatePem()),
            ["MeterAgent:ManagementTls:KeyPath"] = _folder.Write("server.key", _server.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem()),
            ["MeterAgent:ManagementTls:ClientCaPath"] = _folder.Write("clients-ca.crt", _ca.ExportCertificatePem()),
            ["Attestation:SigningKeyPath"] = _folder.Write("log.skey", key.SignerKey),
            ["Attestation:ReadToken"] = ReadToken,
        });
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        foreach (var certificate in new[] { _ca, _server, _client, _stranger })
        {
            certificate.Dispose();
        }

        _folder.Dispose();
    }

    private static X509Certificate2 Authority(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    private static X509Certificate2 Issue(X509Certificate2 authority, string subject, bool server)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
        }

        using var issued = request.Create(authority, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7), RandomNumberGenerator.GetBytes(8));
        return issued.CopyWithPrivateKey(key);
    }

    private HttpClient Client(X509Certificate2? certificate)
    {
        var handler = new HttpClientHandler
        {
            // The test's own CA issued the server's certificate: trust exactly that certificate.
            ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented?.Thumbprint == _server.Thumbprint,
        };
        if (certificate is not null)
        {
            handler.ClientCertificateOptions = ClientCertificateOption.Manual;
            handler.ClientCertificates.Add(certificate);
        }

        var client = new HttpClient(handler) { BaseAddress = new Uri(_agent.ManagementUrl.Replace("http://", "https://", StringComparison.Ordinal)) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ReadToken);
        return client;
    }

    [Fact]
    public async Task The_clearing_house_with_a_certificate_from_the_configured_ca_reads_the_log()
    {
        using var clearing = Client(_client);
        using var response = await clearing.GetAsync("log/statements");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // The token is still required on top of the certificate.
        clearing.DefaultRequestHeaders.Authorization = null;
        using var anonymous = await clearing.GetAsync("log/statements");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task A_connection_without_a_certificate_or_with_another_cas_is_refused_before_any_endpoint()
    {
        using var none = Client(null);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => none.GetAsync("log/statements"));
        using var stranger = Client(_stranger);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => stranger.GetAsync("log/statements"));

        // Plain HTTP to the management port is refused too; the client port is unchanged.
        using var plain = new HttpClient { BaseAddress = new Uri(_agent.ManagementUrl) };
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync("healthz/live"));
        using var request = _agent.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}""");
        using var proxied = await _agent.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);
    }

    [Fact]
    public async Task A_client_ca_without_a_server_certificate_stops_start_up_naming_the_key()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => TestAgent.StartAsync(settings: new Dictionary<string, string?>
        {
            ["MeterAgent:ManagementTls:ClientCaPath"] = _folder.Write("only-ca.crt", _ca.ExportCertificatePem()),
        }));
        Assert.Contains("MeterAgent:ManagementTls:CertificatePath", failure.ToString(), StringComparison.Ordinal);
    }
}
