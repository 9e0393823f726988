using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MeterAgent.Emulator;
using OpenAI.Chat;
using Xunit.Abstractions;

namespace MeterAgent.IntegrationTests.Distributed;

/// <summary>
/// One account's tokens-per-minute limit enforced across three replicas: 64 concurrent requests through the three proxy
/// ports (the official OpenAI SDK, retries off) admit estimated tokens within the bound docs/rate-limits.md documents
/// (<c>L + L·t/60</c> over t seconds: one shared bucket, whichever replica a request reaches); the rest get 429 in
/// OpenAI's error shape with <c>retry-after</c> and the <c>x-ratelimit-*</c> headers.
/// </summary>
[Collection(DistributedCollection.Name)]
public sealed class RateLimitAcrossReplicasTests(ITestOutputHelper output)
{
    private const long Limit = 300;
    private const int MaxTokens = 20;
    private const int Requests = 64;

    private static string? Header(PipelineResponse response, string name) => response.Headers.TryGetValue(name, out var value) ? value : null;

    [SkippableFact]
    public async Task Sixty_four_concurrent_requests_over_three_replicas_admit_estimates_within_the_documented_overshoot_and_the_rest_get_429()
    {
        RunningRedis.Require();
        await using var redis = await RunningRedis.StartAsync();
        using var house = ClearingHouse.Create();
        await using var emulator = await RunningEmulator.StartAsync(new EmulatorOptions { RequiredApiKey = TestAgent.UpstreamKey });
        await using var replicas = await ReplicaSet.StartAsync(redis, emulator, house, 3);
        var (accountId, key) = await replicas.AccountAsync(1_000_000m);

        // Set through one replica; every replica reads the policy from Redis at its next request.
        using (var set = await replicas.Agents[2]!.AdminClient().PutAsJsonAsync($"admin/accounts/{accountId}/rate-limits", new { tokens_per_minute = Limit }))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        }

        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = new Stopwatch();
        var calls = Enumerable.Range(0, Requests).Select(i => Task.Run(async () =>
        {
            var capture = new UsageIdCapture();
            var chat = replicas.Chat(i % 3, key, capture);
            await go.Task;
            try
            {
                var result = await chat.CompleteChatAsync([new UserChatMessage($"Quote the strip {i}.")], new ChatCompletionOptions { MaxOutputTokenCount = MaxTokens });
                return (Replica: i % 3, capture.UsageId, Response: result.GetRawResponse(), Refused: (ClientResultException?)null);
            }
            catch (ClientResultException refused)
            {
                return (Replica: i % 3, capture.UsageId, Response: refused.GetRawResponse()!, Refused: refused);
            }
        })).ToArray();
        clock.Start();
        go.SetResult();
        var results = await Task.WhenAll(calls);
        var seconds = clock.Elapsed.TotalSeconds;

        var admitted = results.Where(r => r.Refused is null).ToList();
        var refused = results.Where(r => r.Refused is not null).ToList();
        Assert.All(refused, r => Assert.Equal(429, r.Refused!.Status));
        Assert.NotEmpty(admitted);
        Assert.NotEmpty(refused);
        Assert.True(refused.Select(r => r.Replica).Distinct().Count() == 3, "every replica refused some: the bucket is shared");

        // The admitted requests stay within one full bucket plus what drained while the burst ran, each counted at what
        // it held the bucket at its least: its estimate (reference input + max output, as the limiter charged it) or,
        // once settled, its actual (a settlement during the burst gives the difference back to later requests).
        var records = await replicas.ClosedRecordsAsync(Requests);
        var byId = records.ToDictionary(r => r.GetProperty("id").GetString()!);
        var estimates = admitted.Sum(r => SharedLoadTests.Long(byId[r.UsageId!], "reference_input_tokens")
            + Math.Min(SharedLoadTests.Long(byId[r.UsageId!], "reference_output_tokens"), MaxTokens));
        var bound = Limit + (long)Math.Ceiling(Limit * seconds / 60);
        output.WriteLine($"admitted {admitted.Count} of {Requests}, estimates {estimates} tokens, bound {bound} over {seconds:F2} s");
        Assert.True(estimates <= bound, $"{admitted.Count} admitted requests estimated {estimates} tokens; the documented bound over {seconds:F1} s is {bound}");
        Assert.All(admitted, r => Assert.Equal("completed", byId[r.UsageId!].GetProperty("status").GetString()));
        Assert.All(refused, r => Assert.Equal("rejected", byId[r.UsageId!].GetProperty("status").GetString()));

        // Admitted responses carry the limit; refusals carry OpenAI's shape and every header a client backs off by.
        Assert.All(admitted, r => Assert.Equal(Limit.ToString(CultureInfo.InvariantCulture), Header(r.Response, "x-ratelimit-limit-tokens")));
        foreach (var (_, _, response, _) in refused)
        {
            Assert.Equal(Limit.ToString(CultureInfo.InvariantCulture), Header(response, "x-ratelimit-limit-tokens"));
            var remaining = long.Parse(Header(response, "x-ratelimit-remaining-tokens")!, CultureInfo.InvariantCulture);
            Assert.InRange(remaining, 0, Limit);
            Assert.NotNull(Header(response, "x-ratelimit-reset-tokens"));
            Assert.True(int.Parse(Header(response, "retry-after")!, CultureInfo.InvariantCulture) >= 1);
            Assert.True(long.Parse(Header(response, "retry-after-ms")!, CultureInfo.InvariantCulture) >= 1);
            var error = JsonDocument.Parse(response.Content.ToString()).RootElement.GetProperty("error");
            Assert.Equal("rate_limit_error", error.GetProperty("type").GetString());
            Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        }
    }
}
