using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MeterAgent.Emulator;
using MeterAgent.Ledger.Usage;
using MeterAgent.Metering.Tokenization;

namespace MeterAgent.AdversarialTests;

/// <summary>A client that tries to pay less than it received, against a real agent with credits on.</summary>
public sealed class BillingBypassTests
{
    // The test contract's weights: input 1, output 2 (ClearingHouse).
    private const long MicroPerUnit = 1_000_000;

    [Fact]
    public async Task An_anthropic_stream_left_before_its_final_usage_is_billed_for_every_token_delivered()
    {
        using var house = ClearingHouse.Create(unitBasis: "native");
        await using var agent = await TestAgent.StartAsync(
            new EmulatorOptions { RequiredApiKey = TestAgent.UpstreamKey, TokensPerSecond = 50, DefaultOutputTokens = 400 },
            house.AgentSettings(("Credits:DefaultMaxOutputTokens", "256")));
        await ClearingHouse.DeliverAsync(agent.Admin, house.Notice(agent.AccountId, 100_000));

        // message_start carries output_tokens: 1 as a placeholder; the client leaves after 40 text deltas, before the
        // message_delta that would say how many were really sent.
        using var request = agent.AnthropicRequest("""
            {"model":"emu-claude","max_tokens":200,"stream":true,"messages":[{"role":"user","content":"Tell the long story."}]}
            """);
        // No draining on dispose: the client really leaves, as a killed process or a cancelled SDK call does.
        using var leaving = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = new Uri(agent.ProxyUrl) };
        var response = await leaving.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var usageId = response.Headers.GetValues("x-meteragent-usage-id").Single();
        var received = new StringBuilder();
        var deltas = 0;
        using (var reader = new StreamReader(await response.Content.ReadAsStreamAsync()))
        {
            while (deltas < 40 && await reader.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal) && line.Contains("\"text_delta\"", StringComparison.Ordinal))
                {
                    deltas++;
                    received.Append(JsonDocument.Parse(line[6..]).RootElement.GetProperty("delta").GetProperty("text").GetString());
                }
            }
        }

        response.Dispose();
        var record = await agent.RecordAsync(usageId);

        Assert.Equal(UsageStatus.ClientAborted, record.Status);
        Assert.Equal(1, record.NativeOutputTokens);

        // The reference count of the text this client read is a floor: the agent saw it all, and maybe more in flight.
        // (The tokenizer itself is checked against js-tiktoken in the metering tests; here it only measures.)
        var delivered = ReferenceTokenizer.Instance.CountTokens([received.ToString()]);
        Assert.True(delivered > 20, $"only {delivered} reference tokens read");
        Assert.True(record.ReferenceOutputTokens >= delivered, $"reference output {record.ReferenceOutputTokens} < {delivered} the client read");
        var floor = ((record.NativeInputTokens ?? 0) + (2 * record.ReferenceOutputTokens)) * MicroPerUnit;
        Assert.True(record.UnitsMicro >= floor, $"billed {record.UnitsMicro} micro-units, below the {floor} of what was delivered");
        Assert.Equal("native_floored", record.UnitsBasis);
        Assert.Equal(record.UnitsMicro, record.RedeemedMicro + record.OverageMicro);
    }

    [Fact]
    public async Task A_request_that_outlives_the_reservation_timeout_still_redeems_what_it_used()
    {
        using var house = ClearingHouse.Create();
        await using var agent = await TestAgent.StartAsync(
            new EmulatorOptions { RequiredApiKey = TestAgent.UpstreamKey, TokensPerSecond = 12 },
            house.AgentSettings(("Credits:ReservationTimeout", "00:00:01.500"), ("Store:ReservationSweepInterval", "00:00:00.100")));
        await ClearingHouse.DeliverAsync(agent.Admin, house.Notice(agent.AccountId, 1_000));

        // 48 tokens at 12 a second: four seconds, well past the 1.5 s timeout and many expiry sweeps.
        using var request = agent.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","stream":true,"max_tokens":48,"messages":[{"role":"user","content":"Slowly, please."}]}""");
        using var response = await agent.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("[DONE]", body, StringComparison.Ordinal);
        var record = await agent.RecordForAsync(response);

        Assert.Equal(UsageStatus.Completed, record.Status);
        Assert.True(record.UnitsMicro > 0);
        Assert.Equal((record.UnitsMicro, 0L), (record.RedeemedMicro, record.OverageMicro));
        var lots = await agent.Admin.GetFromJsonAsync<JsonElement>($"admin/accounts/{agent.AccountId}/lots");
        Assert.Equal(record.UnitsMicro / (decimal)MicroPerUnit, ClearingHouse.Units(lots[0], "redeemed"));
        Assert.Equal(0m, ClearingHouse.Units(lots[0], "pending"));
    }

    [Fact]
    public async Task Clients_that_reset_right_after_the_body_leave_no_open_record_and_no_pending_credit()
    {
        using var house = ClearingHouse.Create();
        await using var agent = await TestAgent.StartAsync(settings: house.AgentSettings());
        await ClearingHouse.DeliverAsync(agent.Admin, house.Notice(agent.AccountId, 100_000));
        var port = new Uri(agent.ProxyUrl).Port;
        const int Resets = 120;

        var body = """{"model":"emu-chat","stream":true,"max_tokens":16,"messages":[{"role":"user","content":"Reset me."}]}""";
        var wire = Encoding.ASCII.GetBytes(
            $"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {agent.ClientKey}\r\n"
            + $"Content-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n{body}");
        await Parallel.ForAsync(0, Resets, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Loopback, port, ct);
            await socket.SendAsync(wire, SocketFlags.None, ct);

            // Linger 0: the close is a TCP reset, as a client killed mid-request sends. Some wait a moment first, so
            // the reset lands at every stage: reading the body, writing the record, reserving, streaming.
            if (i % 3 != 0)
            {
                await Task.Delay(i % 7, ct);
            }

            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        });

        var records = await Eventually.ThatAsync(
            async () => await agent.Usage.QueryAsync(new UsageQuery(agent.AccountId, Limit: 1000)),
            all => all.All(r => r.Status != UsageStatus.Open),
            "every record closed");
        Assert.NotEmpty(records);
        Assert.All(records, r => Assert.Contains(r.Status, new[] { UsageStatus.ClientAborted, UsageStatus.Completed }));
        var lots = await agent.Admin.GetFromJsonAsync<JsonElement>($"admin/accounts/{agent.AccountId}/lots");
        Assert.Equal(0m, ClearingHouse.Units(lots[0], "pending"));
        var charged = records.Sum(r => r.RedeemedMicro ?? 0) / (decimal)MicroPerUnit;
        Assert.Equal(charged, ClearingHouse.Units(lots[0], "redeemed"));
    }
}
