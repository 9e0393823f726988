using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.Redis;
using Microsoft.Extensions.DependencyInjection;

namespace MeterAgent.IntegrationTests;

/// <summary>
/// <c>Store:Kind=redis</c> as a provider sets it: two agents, each with its own local store, point at one Redis, and
/// nothing else changes for clients. A key issued on one works on the other, a delivery applied on one is redeemed
/// through the other, and either shows the same balance and live counters.
/// </summary>
public sealed class DistributedModeTests : RedisAgentTests
{
    private Task<TestAgent> StartAsync(string replica)
    {
        return TestAgent.StartAsync(settings: RedisSettings("dist:", replica));
    }

    private static async Task<JsonElement> BalanceAsync(TestAgent agent, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/meteragent/balance");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await agent.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [SkippableFact]
    public async Task Two_replicas_share_accounts_keys_credits_and_counters()
    {
        await using var a = await StartAsync("replica-a");
        await using var b = await StartAsync("replica-b");
        Assert.IsType<RedisAccountStore>(a.Services.GetRequiredService<IAccountStore>());

        // The account and key TestAgent created on A are known to B: one Redis.
        await ClearingHouse.DeliverAsync(a.Admin, House.Notice(a.AccountId, 1000m));
        using var response = await b.Http.SendAsync(b.OpenAIRequest("v1/chat/completions",
            """{"model":"emu-chat","max_tokens":16,"messages":[{"role":"user","content":"Through the other replica."}]}""", a.ClientKey));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = await b.RecordForAsync(response);
        Assert.Equal(a.AccountId, record.AccountId);
        Assert.True(record.RedeemedMicro > 0, "the request redeemed the lot delivered through the other replica");

        // Both replicas show the redemption; the live counters reach Redis within a flush or two.
        var redeemed = ClearingHouse.Units((await BalanceAsync(a, a.ClientKey)).GetProperty("lots")[0], "redeemed");
        Assert.Equal(record.RedeemedMicro / 1_000_000m, redeemed);
        var usage = await Eventually.ThatAsync(
            async () => (await BalanceAsync(a, a.ClientKey)).GetProperty("usage"),
            u => u.GetArrayLength() == 1 && u[0].GetProperty("requests").GetInt64() == 1,
            "replica A's balance shows the request served by B in its live counters");
        Assert.Equal(record.ReferenceInputTokens, usage[0].GetProperty("reference_input_tokens").GetInt64());
        Assert.Equal(record.UnitsMicro / 1_000_000m, usage[0].GetProperty("units").GetDecimal());

        // A key revoked on B is refused on A within the key cache bound.
        using (var revoke = await b.Admin.DeleteAsync($"admin/keys/{(await a.Accounts.ListKeysAsync(a.AccountId)).Single().KeyId}"))
        {
            Assert.True(revoke.IsSuccessStatusCode, $"revoke answered {(int)revoke.StatusCode}");
        }

        await Eventually.TrueAsync(
            async () =>
            {
                using var refused = await a.Http.SendAsync(a.OpenAIRequest("v1/chat/completions", """{"model":"emu-chat","max_tokens":4,"messages":[{"role":"user","content":"x"}]}"""));
                return refused.StatusCode == HttpStatusCode.Unauthorized;
            },
            "the key revoked on B is refused on A");
    }

    [SkippableFact]
    public async Task A_client_sending_one_request_after_another_is_not_refused_for_the_hold_of_its_last()
    {
        await using var agent = await StartAsync("replica-seq");
        await CreditsTests.OneRequestAfterAnotherAsync(agent, House);
    }
}
