using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MeterAgent.IntegrationTests;

/// <summary>`dotnet MeterAgent.dll --demo`, as the README's first command: its printed curl line works as printed.</summary>
public sealed partial class DemoTests
{
    [GeneratedRegex("""curl -s (?<url>\S+/v1/chat/completions) -H "Authorization: Bearer (?<key>[^"]+)" -H "Content-Type: application/json" -d '(?<body>[^']+)'""")]
    private static partial Regex ChatCurl();

    [GeneratedRegex(""""curl -s "(?<url>\S+/admin/usage\?limit=1)" -H "Authorization: Bearer (?<token>[^"]+)"""")]
    private static partial Regex UsageCurl();

    [GeneratedRegex(""""curl -s (?<url>\S+/log/statements) -H "Authorization: Bearer (?<token>[^"]+)"""")]
    private static partial Regex StatementsCurl();

    [GeneratedRegex("""dotnet run --project src/MeterAgent -- (?<args>verify [^\n]+)""")]
    private static partial Regex VerifyCommand();

    [Fact]
    public async Task The_demo_starts_and_its_printed_request_is_metered_and_redeemed()
    {
        using var folder = new TempFolder("meteragent-demo-");
        var proxyPort = FreePort.Next();
        var managementPort = FreePort.Next();
        await using var demo = await AgentProcess.StartRawAsync(folder.Path, proxyPort, managementPort,
            "--demo",
            $"--MeterAgent:ProxyPort={proxyPort}",
            $"--MeterAgent:ManagementPort={managementPort}",
            "--Logging:LogLevel:Default=Warning");

        // Ready means listening; the demo prints its lines once its delivery has landed.
        await Eventually.TrueAsync(() => demo.Output.Contains("Ctrl+C stops the demo", StringComparison.Ordinal), "the demo prints its instructions");
        var chat = ChatCurl().Match(demo.Output);
        var usage = UsageCurl().Match(demo.Output);
        Assert.True(chat.Success && usage.Success, "the demo's curl lines:\n" + demo.Output);
        Assert.Equal($"http://127.0.0.1:{proxyPort}/v1/chat/completions", chat.Groups["url"].Value);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Post, chat.Groups["url"].Value)
        {
            Content = new StringContent(chat.Groups["body"].Value, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", chat.Groups["key"].Value);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var completion = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(string.IsNullOrEmpty(completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()));
        var usageId = response.Headers.GetValues("x-meteragent-usage-id").Single();

        // The demo account's printed rate limit shows in the headers OpenAI clients read.
        Assert.Contains("limited to 200,000 tokens and 600 requests a minute", demo.Output, StringComparison.Ordinal);
        Assert.Equal("200000", response.Headers.GetValues("x-ratelimit-limit-tokens").Single());
        Assert.Equal("600", response.Headers.GetValues("x-ratelimit-limit-requests").Single());

        // The printed admin call shows that request's record, closed and redeemed from the demo's delivery.
        using var admin = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", usage.Groups["token"].Value);
        var record = await Eventually.ThatAsync(
            async () => (await admin.GetFromJsonAsync<JsonElement>(usage.Groups["url"].Value)).GetProperty("records")[0],
            r => r.GetProperty("id").GetString() == usageId && r.GetProperty("status").GetString() != "open",
            "the demo request's record, closed");
        Assert.Equal("completed", record.GetProperty("status").GetString());
        Assert.True(record.GetProperty("redeemed_micro").GetInt64() > 0, "redeemed from the demo's delivery");
        Assert.Equal(record.GetProperty("units_micro").GetInt64(), record.GetProperty("redeemed_micro").GetInt64());

        // The printed balance call shows the closed request in the live counters.
        using var balanceRequest = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{proxyPort}/v1/meteragent/balance");
        balanceRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", chat.Groups["key"].Value);
        Assert.Contains($"curl -s http://127.0.0.1:{proxyPort}/v1/meteragent/balance", demo.Output, StringComparison.Ordinal);
        using var balance = await http.SendAsync(balanceRequest);
        var counters = (await balance.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("usage");
        Assert.Equal(1, counters.EnumerateArray().Sum(row => row.GetProperty("requests").GetInt64()));
    
        // The statement closes at the end of its 30 s interval plus 5 s; the printed calls list it, and the printed
        // verify command passes.
        var statements = StatementsCurl().Match(demo.Output);
        var verify = VerifyCommand().Match(demo.Output);
        Assert.True(statements.Success && verify.Success, "the demo's log lines:\n" + demo.Output);
        using var clearing = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        clearing.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", statements.Groups["token"].Value);
        await Eventually.ThatAsync(
            async () => (await clearing.GetFromJsonAsync<JsonElement>(statements.Groups["url"].Value)).GetProperty("statements").GetArrayLength(),
            count => count > 0,
            "a statement within a minute",
            TimeSpan.FromSeconds(60));

        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await MeterAgent.Verify.MeterAgentTool.RunAsync(verify.Groups["args"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries), stdout, stderr);
        Assert.True(exit == 0, stderr.ToString());
        Assert.Contains("statements (1 contracts", stdout.ToString(), StringComparison.Ordinal);
    }
}
