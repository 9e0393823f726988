using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using MeterAgent.Attestation.Notes;

namespace MeterAgent.IntegrationTests.Hardening;

/// <summary>
/// No key, token or prompt text reaches a log line: an agent logging everything (Trace, every category, scopes and
/// exceptions) is driven through good and bad client keys, bad admin and read tokens, a good and a bad delivery, and
/// streamed and whole answers with distinctive prompts; then every captured line is searched for each secret.
/// </summary>
public sealed class LogScanTests : IAsyncLifetime
{
    private const string ReadToken = "read-token-LEAKCHECK-5b1e0c7d9a";
    private const string BadReadToken = "bad-read-token-LEAKCHECK-77aa01";
    private const string BadAdminToken = "bad-admin-token-LEAKCHECK-3c9d2e";
    private const string BadClientKey = "sk-bad-client-key-LEAKCHECK-0f4e8a";
    private const string BadAnthropicKey = "sk-ant-bad-key-LEAKCHECK-91bc3f";
    private const string WholePrompt = "Prompt-LEAKCHECK-whole-aubergine-quartz";
    private const string StreamedPrompt = "Prompt-LEAKCHECK-streamed-heliotrope-zinc";
    private const string AnthropicPrompt = "Prompt-LEAKCHECK-anthropic-marmalade-cobalt";
    private const string ResponsesPrompt = "Prompt-LEAKCHECK-responses-juniper-basalt";
    private const string RefusedPrompt = "Prompt-LEAKCHECK-refused-tangerine-slate";

    private readonly LogCapture _capture = new();
    private readonly TempFolder _folder = new("meteragent-log-scan-");
    private NoteKeyPair _logKey = null!;
    private ClearingHouse _house = null!;
    private TestAgent _agent = null!;

    public async Task InitializeAsync()
    {
        _house = ClearingHouse.Create();
        _logKey = NoteKeyPair.Generate("meteragent.test/log");
        _agent = await TestAgent.StartAsync(
            settings: _house.AgentSettings(
                ("Attestation:SigningKeyPath", _folder.Write("log.skey", _logKey.SignerKey)),
                ("Attestation:ReadToken", ReadToken),
                ("Logging:LogLevel:Default", "Trace"),
                ("Logging:LogLevel:Microsoft", "Trace"),
                ("Logging:LogLevel:Microsoft.AspNetCore", "Trace"),
                ("Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics", "Trace"),
                ("Logging:LogLevel:Yarp", "Trace")),
            services: _capture.AddTo);
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        _house.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public async Task No_key_token_or_prompt_text_appears_in_any_log_line()
    {
        // A second key issued through the admin API: its secret is in that response, never in a log.
        string issuedKey;
        using (var issued = await _agent.Admin.PostAsync($"admin/accounts/{_agent.AccountId}/keys", null))
        {
            Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
            issuedKey = (await issued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        }

        // Credits, so metered requests are served: a good delivery, then a tampered one and one for nobody.
        var notice = _house.Notice(_agent.AccountId, 100_000);
        await ClearingHouse.DeliverAsync(_agent.Admin, notice);
        // One character in the middle of the signature changed: still well-formed base64url (a last character carries
        // padding bits, and changing it can make the encoding non-canonical, a malformed notice rather than a forged one).
        var middle = notice.LastIndexOf('.') + (notice.Length - notice.LastIndexOf('.')) / 2;
        var tampered = string.Concat(notice.AsSpan(0, middle), notice[middle] == 'A' ? "B" : "A", notice.AsSpan(middle + 1));
        using (var refused = await ClearingHouse.PostAsync(_agent.Admin, tampered))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        var forNobody = _house.Notice("acct_nobody", 5);
        using (var refused = await ClearingHouse.PostAsync(_agent.Admin, forNobody))
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        }

        // Whole and streamed answers, on both API families, with the fixture's key and the issued one.
        await ExpectAsync(HttpStatusCode.OK, _agent.OpenAIRequest("v1/chat/completions", Chat(WholePrompt, stream: false)));
        await ExpectAsync(HttpStatusCode.OK, _agent.OpenAIRequest("v1/chat/completions", Chat(StreamedPrompt, stream: true), issuedKey));
        await ExpectAsync(HttpStatusCode.OK, _agent.OpenAIRequest("v1/responses", $$"""{"model":"emu-chat","max_output_tokens":8,"input":"{{ResponsesPrompt}}","stream":true}"""));
        await ExpectAsync(HttpStatusCode.OK, _agent.AnthropicRequest($$"""{"model":"emu-chat","max_tokens":8,"stream":true,"messages":[{"role":"user","content":"{{AnthropicPrompt}}"}]}"""));

        // Bad client keys, with a prompt, on the proxy and the account API.
        await ExpectAsync(HttpStatusCode.Unauthorized, _agent.OpenAIRequest("v1/chat/completions", Chat(RefusedPrompt, stream: false), BadClientKey));
        await ExpectAsync(HttpStatusCode.Unauthorized, _agent.AnthropicRequest($$"""{"model":"emu-chat","max_tokens":8,"messages":[{"role":"user","content":"{{RefusedPrompt}}"}]}""", BadAnthropicKey));
        using (var balance = new HttpRequestMessage(HttpMethod.Get, "v1/meteragent/balance"))
        {
            balance.Headers.Authorization = new AuthenticationHeaderValue("Bearer", BadClientKey);
            await ExpectAsync(HttpStatusCode.Unauthorized, balance);
        }

        using (var balance = new HttpRequestMessage(HttpMethod.Get, "v1/meteragent/balance"))
        {
            balance.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _agent.ClientKey);
            await ExpectAsync(HttpStatusCode.OK, balance);
        }

        // Requests the upstream fails or cuts off mid-stream: the error paths log, and must not carry the prompt either.
        foreach (var (fault, stream) in new[] { ("error:500", false), ("disconnect", true) })
        {
            using var failing = _agent.OpenAIRequest("v1/chat/completions", Chat(RefusedPrompt, stream));
            failing.Headers.Add("x-emulator-fault", fault);
            try
            {
                using var response = await _agent.Http.SendAsync(failing);
                await response.Content.ReadAsStringAsync();
            }
            catch (HttpRequestException)
            {
                // The cut reaches the client as a broken response.
            }
            catch (IOException)
            {
            }
        }

        // Management port: a bad admin token, a good and a bad read token.
        using (var admin = new HttpClient { BaseAddress = new Uri(_agent.ManagementUrl) })
        {
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", BadAdminToken);
            using var refused = await admin.GetAsync("admin/accounts");
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ReadToken);
            using (var read = await admin.GetAsync("log/checkpoint"))
            {
                Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            }

            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", BadReadToken);
            using var unread = await admin.GetAsync("log/statements");
            Assert.Equal(HttpStatusCode.Unauthorized, unread.StatusCode);
        }

        await _agent.ClosedRecordsAsync(5);
        await _agent.StopAsync();

        var lines = _capture.Lines.ToArray();

        // The capture saw the traffic at every level, so an empty scan cannot pass for a clean one.
        Assert.Contains(lines, line => line.StartsWith("Trace ", StringComparison.Ordinal) || line.StartsWith("Debug ", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("/v1/chat/completions", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("/clearing/deliveries", StringComparison.Ordinal));

        var secrets = new Dictionary<string, string>
        {
            ["client key"] = _agent.ClientKey,
            ["issued client key"] = issuedKey,
            ["bad client key"] = BadClientKey,
            ["bad Anthropic key"] = BadAnthropicKey,
            ["admin token"] = TestAgent.AdminToken,
            ["bad admin token"] = BadAdminToken,
            ["read token"] = ReadToken,
            ["bad read token"] = BadReadToken,
            ["upstream key"] = TestAgent.UpstreamKey,
            ["log signing key"] = _logKey.SignerKey.Trim(),
            ["delivery notice"] = notice,
            ["tampered delivery notice"] = tampered,
            ["whole prompt"] = WholePrompt,
            ["streamed prompt"] = StreamedPrompt,
            ["Responses prompt"] = ResponsesPrompt,
            ["Anthropic prompt"] = AnthropicPrompt,
            ["refused prompt"] = RefusedPrompt,
        };
        var leaks = (
            from secret in secrets
            from line in lines
            where line.Contains(secret.Value, StringComparison.Ordinal) || line.Contains("LEAKCHECK", StringComparison.Ordinal)
            select $"{secret.Key}: {line}").Distinct().ToList();
        Assert.True(leaks.Count == 0, $"{leaks.Count} leaking log line(s) of {lines.Length}:\n{string.Join('\n', leaks.Take(20))}");
    }

    private static string Chat(string prompt, bool stream) =>
        $$"""{"model":"emu-chat","max_tokens":8,"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"{{prompt}}"}]}""";

    private async Task ExpectAsync(HttpStatusCode status, HttpRequestMessage request)
    {
        using (request)
        {
            using var response = await _agent.Http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(status == response.StatusCode, $"{request.RequestUri}: {(int)response.StatusCode} {body}");
        }
    }
}
