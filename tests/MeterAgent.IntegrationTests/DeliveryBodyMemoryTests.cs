using System.Diagnostics;

namespace MeterAgent.IntegrationTests;

/// <summary>Alone: it measures the whole test process, which other tests running beside it would disturb.</summary>
[CollectionDefinition(nameof(MemoryMeasurement), DisableParallelization = true)]
public sealed class MemoryMeasurement;

/// <summary>
/// Eight parallel 29 MB posts to the unauthenticated delivery endpoint once took the agent from 200 MB to 1.1 GB (each
/// body read whole into a string before the size check). The agent runs in this process, so the test process is
/// measured: bytes allocated while the posts run, and the peak working set.
/// </summary>
[Collection(nameof(MemoryMeasurement))]
public sealed class DeliveryBodyMemoryTests : IAsyncLifetime
{
    private const long TwentyNineMegabytes = 29L * 1024 * 1024;

    // Bounds: reading the bodies whole allocates at least 8 x 58 MB (UTF-16 strings) and grew the working set by ~900 MB.
    // Capped reads allocate a few KiB per request; the rest is Kestrel's pooled buffers and test-side noise.
    private const long MaxAllocatedBytes = 64L * 1024 * 1024;
    private const long MaxWorkingSetGrowth = 150L * 1024 * 1024;

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

    [Fact]
    public async Task Eight_parallel_29_MB_delivery_posts_keep_memory_bounded()
    {
        // Warm up the connection path once so JIT and pools are not counted as growth.
        await RawHttpPost.SendAsync(_agent.ManagementUrl, "/clearing/deliveries", "application/jose", 100_000, chunked: true, TimeSpan.FromSeconds(30));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        var workingSetBefore = self.WorkingSet64;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);

        using var sampling = new CancellationTokenSource();
        var peak = workingSetBefore;
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                self.Refresh();
                peak = Math.Max(peak, self.WorkingSet64);
                await Task.Delay(10, CancellationToken.None);
            }
        });

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            RawHttpPost.SendAsync(_agent.ManagementUrl, "/clearing/deliveries", "application/jose", TwentyNineMegabytes, chunked: i % 2 == 0, TimeSpan.FromSeconds(60))));

        await sampling.CancelAsync();
        await sampler;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        Assert.All(responses, r => Assert.Equal(413, r.Status));
        Assert.True(allocated < MaxAllocatedBytes, $"{allocated / 1024 / 1024} MiB allocated during the posts (bound {MaxAllocatedBytes / 1024 / 1024} MiB)");
        Assert.True(peak - workingSetBefore < MaxWorkingSetGrowth, $"working set grew {(peak - workingSetBefore) / 1024 / 1024} MiB (bound {MaxWorkingSetGrowth / 1024 / 1024} MiB)");
    }
}
