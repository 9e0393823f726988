using System.ClientModel;
using System.Collections.Concurrent;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MeterAgent.Attestation.Checkpoints;
using MeterAgent.Attestation.Entries;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Tiles;
using OpenAI;
using OpenAI.Chat;

namespace MeterAgent.IntegrationTests.Distributed;

/// <summary>The process-level distributed tests share this collection: each starts several agents, so they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DistributedCollection
{
    public const string Name = "Distributed processes";
}

/// <summary>What one client request ended as, as the client saw it.</summary>
/// <param name="Replica">the replica whose proxy port it was sent to</param>
/// <param name="Status">the HTTP status (0: the connection failed)</param>
/// <param name="UsageId">the <c>x-meteragent-usage-id</c> response header, when the response had headers</param>
/// <param name="Text">the streamed text the client received</param>
/// <param name="Completed">the stream ended with its final chunk (the SDK's enumeration finished)</param>
internal sealed record ClientOutcome(int Replica, int Status, string? UsageId, string Text, bool Completed);

/// <summary>
/// N MeterAgent processes (<c>Store:Kind=redis</c>) on one Redis, each on its own SQLite store and ports, with one
/// emulator upstream, one clearing house (credits on) and one log signing key. A replica can be killed (kill -9) and
/// started again on the same store, ports and replica id.
/// </summary>
internal sealed class ReplicaSet : IAsyncDisposable
{
    public const string ReadToken = "clearing-house-read-token-for-tests";
    public const string KeyPrefix = "dt:";

    private readonly TempFolder _folder = new("meteragent-replicas-");
    private readonly (string Database, int Proxy, int Management)[] _slots;
    private readonly string[] _extra;
    private readonly string _keyPath;

    private ReplicaSet(RunningRedis redis, RunningEmulator emulator, ClearingHouse house, int count, (string Key, string Value)[] settings)
    {
        Redis = redis;
        Emulator = emulator;
        House = house;
        LogKey = NoteKeyPair.Generate("meteragent.test/dist-log");
        _keyPath = _folder.Write("log.skey", LogKey.SignerKey);
        _slots = [.. Enumerable.Range(0, count).Select(i => (_folder.File($"replica-{i}.db"), FreePort.Next(), FreePort.Next()))];
        Agents = new AgentProcess?[count];
        var all = new Dictionary<string, string?>(house.AgentSettings())
        {
            ["Store:Kind"] = "redis",
            ["Redis:ConnectionString"] = redis.ConnectionString,
            ["Redis:KeyPrefix"] = KeyPrefix,
            ["Redis:LogLeaseTtl"] = "00:00:02",
            ["Attestation:SigningKeyPath"] = _keyPath,
            ["Attestation:ReadToken"] = ReadToken,
            ["Attestation:CheckpointInterval"] = "00:00:01",
            ["Store:ReservationSweepInterval"] = "00:00:00.500",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        _extra = [.. all.Select(pair => $"--{pair.Key}={pair.Value}")];
    }

    public RunningRedis Redis { get; }

    public RunningEmulator Emulator { get; }

    public ClearingHouse House { get; }

    public NoteKeyPair LogKey { get; }

    /// <summary>The running agents by replica index; null while one is down.</summary>
    public AgentProcess?[] Agents { get; }

    public int Count => Agents.Length;

    /// <summary>A live replica's management API with the admin token.</summary>
    public HttpClient Admin { get; private set; } = null!;

    /// <summary>Starts <paramref name="count"/> replicas together (replica ids <c>r0</c>, <c>r1</c>, ...).</summary>
    /// <param name="redis">the shared Redis (one server or a cluster)</param>
    /// <param name="emulator">the upstream</param>
    /// <param name="house">the clearing house whose settings turn credits on</param>
    /// <param name="count">how many replicas</param>
    /// <param name="settings">more agent settings, over the defaults</param>
    public static async Task<ReplicaSet> StartAsync(RunningRedis redis, RunningEmulator emulator, ClearingHouse house, int count, params (string Key, string Value)[] settings)
    {
        var set = new ReplicaSet(redis, emulator, house, count, settings);
        try
        {
            await Task.WhenAll(Enumerable.Range(0, count).Select(set.StartAsync));
        }
        catch
        {
            await set.DisposeAsync();
            throw;
        }

        return set;
    }

    /// <summary>Starts replica <paramref name="index"/> (again) on its store, ports and replica id.</summary>
    public async Task StartAsync(int index)
    {
        Assert.Null(Agents[index]);
        var (database, proxy, management) = _slots[index];
        Agents[index] = await AgentProcess.StartAsync(
            database, Emulator.Url, proxy, management, [.. _extra, $"--Redis:ReplicaId=r{index.ToString(CultureInfo.InvariantCulture)}"]);
        ResetAdmin();
    }

    /// <summary>kill -9 of replica <paramref name="index"/>: no shutdown hook runs, its lease (if any) is not released.</summary>
    public async Task KillAsync(int index)
    {
        var agent = Agents[index] ?? throw new InvalidOperationException($"replica {index} is not running");
        agent.KillHard();
        await agent.DisposeAsync();
        Agents[index] = null;
        ResetAdmin();
    }

    private void ResetAdmin()
    {
        Admin?.Dispose();
        Admin = Agents.First(a => a is not null)!.AdminClient();
    }

    /// <summary>The replica id holding the log lease, read from <c>P{log}:lease</c> (<c>replica|token</c>).</summary>
    public async Task<int?> LeaseHolderAsync()
    {
        var value = (await Redis.CliAsync("-c", "GET", KeyPrefix + "{log}:lease")).Trim();
        var bar = value.IndexOf('|', StringComparison.Ordinal);
        return bar > 1 && value[0] == 'r' ? int.Parse(value[1..bar], CultureInfo.InvariantCulture) : null;
    }

    /// <summary>A new account, a client key for it and a signed delivery of <paramref name="units"/> credits.</summary>
    public async Task<(string AccountId, string Key)> AccountAsync(decimal units)
    {
        var account = await (await Admin.PostAsJsonAsync("admin/accounts", new { name = "distributed" })).Content.ReadFromJsonAsync<JsonElement>();
        var accountId = account.GetProperty("id").GetString()!;
        var key = (await (await Admin.PostAsync($"admin/accounts/{accountId}/keys", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        if (units > 0)
        {
            await ClearingHouse.DeliverAsync(Admin, House.Notice(accountId, units));
        }

        return (accountId, key);
    }

    /// <summary>The account's only lot as the admin API shows it, amounts in micro-units.</summary>
    public async Task<(long Delivered, long Available, long Pending, long Redeemed)> LotAsync(string accountId, HttpClient? admin = null)
    {
        var lot = Assert.Single((await (admin ?? Admin).GetFromJsonAsync<JsonElement>($"admin/accounts/{accountId}/lots")).EnumerateArray());
        return (Micro(lot, "delivered"), Micro(lot, "available"), Micro(lot, "pending"), Micro(lot, "redeemed"));
    }

    private static long Micro(JsonElement element, string name) => (long)(ClearingHouse.Units(element, name) * 1_000_000m);

    /// <summary>The official OpenAI SDK against replica <paramref name="index"/>'s proxy port, retries off, capturing the usage id.</summary>
    public ChatClient Chat(int index, string clientKey, UsageIdCapture capture)
    {
        var options = new OpenAIClientOptions
        {
            // A replica killed since the caller looked is a refused connection, as a client would see it.
            Endpoint = new Uri((Agents[index] ?? throw new HttpRequestException($"replica {index} is not running")).ProxyUrl + "v1"),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = TimeSpan.FromSeconds(60),
        };
        options.AddPolicy(capture, PipelinePosition.PerCall);
        return new OpenAIClient(new ApiKeyCredential(clientKey), options).GetChatClient("emu-chat");
    }

    /// <summary>One streamed chat completion through replica <paramref name="index"/> with the SDK: what the client saw.</summary>
    public async Task<ClientOutcome> StreamAsync(int index, string clientKey, string prompt, int maxTokens)
    {
        var capture = new UsageIdCapture();
        var text = new StringBuilder();
        if (Agents[index] is null)
        {
            // Killed between two of a worker's requests: nothing was sent, as with a refused connection.
            return new ClientOutcome(index, 0, null, "", Completed: false);
        }

        try
        {
            var chat = Chat(index, clientKey, capture);
            await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage(prompt)], new ChatCompletionOptions { MaxOutputTokenCount = maxTokens }))
            {
                foreach (var part in update.ContentUpdate)
                {
                    text.Append(part.Text);
                }
            }

            return new ClientOutcome(index, capture.Status, capture.UsageId, text.ToString(), Completed: true);
        }
        catch (ClientResultException refused)
        {
            return new ClientOutcome(index, refused.Status, capture.UsageId, text.ToString(), Completed: false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            // The replica died under the client (kill -9), or the stream broke.
            return new ClientOutcome(index, capture.Status, capture.UsageId, text.ToString(), Completed: false);
        }
    }

    /// <summary>Every record of replica <paramref name="index"/>'s local store, through its admin usage API.</summary>
    public async Task<List<JsonElement>> RecordsAsync(int index)
    {
        var agent = Agents[index]!;
        using var admin = agent.AdminClient();
        var records = new List<JsonElement>();
        string? before = null;
        do
        {
            JsonElement page;
            try
            {
                page = await admin.GetFromJsonAsync<JsonElement>("admin/usage?limit=1000" + (before is null ? "" : "&before=" + before));
            }
            catch (HttpRequestException ex) when (agent.HasExited)
            {
                // A replica no test stopped has died: say how, with what it wrote last, instead of "connection refused".
                var output = agent.Output;
                throw new Xunit.Sdk.XunitException(
                    $"replica {index} exited with {agent.ExitCode}; its last output:\n{output[Math.Max(0, output.Length - 8000)..]}\n({ex.Message})");
            }

            records.AddRange(page.GetProperty("records").EnumerateArray());
            before = page.GetProperty("next_before").ValueKind == JsonValueKind.String ? page.GetProperty("next_before").GetString() : null;
        }
        while (before is not null);
        return records;
    }

    /// <summary>Every replica's records, once each replica has <paramref name="expected"/> of them closed (none open).</summary>
    public async Task<List<JsonElement>> ClosedRecordsAsync(int expected)
    {
        return await Eventually.ThatAsync(
            async () => (await Task.WhenAll(Enumerable.Range(0, Count).Select(RecordsAsync))).SelectMany(r => r).ToList(),
            records => records.Count == expected && records.All(r => r.GetProperty("status").GetString() != "open"),
            $"{expected} closed records across the replicas");
    }

    /// <summary>The management port of replica <paramref name="index"/> with the clearing house's read token.</summary>
    public HttpClient Clearing(int index)
    {
        var client = new HttpClient { BaseAddress = new Uri(Agents[index]!.ManagementUrl), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ReadToken);
        return client;
    }

    /// <summary>The signed checkpoint replica <paramref name="index"/> serves, its signature checked.</summary>
    public async Task<Checkpoint?> CheckpointAsync(int index)
    {
        using var clearing = Clearing(index);
        using var response = await clearing.GetAsync("log/checkpoint");
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }

        var note = SignedNote.Open(await response.Content.ReadAsByteArrayAsync(), new NoteVerifiers(NoteVerifier.Parse(LogKey.VerifierKey)));
        return Checkpoint.Parse(note.Text);
    }

    /// <summary>
    /// The shared log's entries, read through replica <paramref name="index"/>'s entry bundles, once its published
    /// checkpoint covers exactly <paramref name="size"/> entries.
    /// </summary>
    public async Task<List<UsageEntry>> LogEntriesAsync(int index, long size)
    {
        await Eventually.ThatAsync(() => CheckpointAsync(index), c => c is not null && c.TreeSize == size, $"replica {index} serves a checkpoint of size {size}");
        using var clearing = Clearing(index);
        var entries = new List<UsageEntry>();
        foreach (var tile in TileLayout.Tiles(size).Where(t => t.Level == 0))
        {
            var bundle = await clearing.GetByteArrayAsync("log/" + TilePath.EntryBundle(tile));
            entries.AddRange(Decode(bundle));
        }

        Assert.Equal(size, entries.Count);
        return entries;
    }

    /// <summary>The checkpoint replica <paramref name="index"/> publishes now, and the entries it covers.</summary>
    public async Task<(Checkpoint Checkpoint, List<UsageEntry> Entries)> PublishedAsync(int index)
    {
        var checkpoint = await Eventually.ThatAsync<Checkpoint?>(() => CheckpointAsync(index), c => c is not null, $"replica {index} serves a checkpoint");
        using var clearing = Clearing(index);
        var entries = new List<UsageEntry>();
        foreach (var tile in TileLayout.Tiles(checkpoint!.TreeSize).Where(t => t.Level == 0))
        {
            entries.AddRange(Decode(await clearing.GetByteArrayAsync("log/" + TilePath.EntryBundle(tile))));
        }

        Assert.Equal(checkpoint.TreeSize, entries.Count);
        return (checkpoint, entries);
    }

    private static List<UsageEntry> Decode(byte[] bundle)
    {
        var entries = new List<UsageEntry>();
        var reader = new EntryBundleReader(bundle);
        while (reader.TryReadNext(out var entry))
        {
            entries.Add(UsageEntryEncoding.Decode(entry));
        }

        Assert.True(reader.IsComplete, "an entry bundle ends mid-entry");
        return entries;
    }

    /// <summary><c>meteragent verify</c> (the clearing house's verifier, in process) over replica <paramref name="index"/>'s log.</summary>
    public async Task VerifyAsync(int index)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await MeterAgent.Verify.MeterAgentTool.RunAsync(
            ["verify", "--log", Agents[index]!.ManagementUrl.TrimEnd('/'), "--key", LogKey.VerifierKey, "--token", ReadToken], stdout, stderr);
        Assert.True(exit == 0, $"meteragent verify against replica {index} exited {exit}:\n{stdout}\n{stderr}");
    }

    /// <summary>What every replica wrote, for failure messages.</summary>
    public string Output => string.Join("\n", Agents.Select((a, i) => $"--- replica {i}:\n{a?.Output}"));

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in Agents)
        {
            if (agent is not null)
            {
                await agent.DisposeAsync();
            }
        }

        Admin?.Dispose();
        _folder.Dispose();
    }
}

/// <summary>
/// Streams in a loop, <c>workersPerReplica</c> clients per replica, until stopped (one replica's workers, or all): what
/// every request ended as is in <see cref="Outcomes"/>.
/// </summary>
internal sealed class StreamingLoad : IAsyncDisposable
{
    private readonly CancellationTokenSource[] _stops;
    private readonly Task[] _workers;

    public StreamingLoad(ReplicaSet replicas, string clientKey, int workersPerReplica, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(replicas);
        _stops = [.. Enumerable.Range(0, replicas.Count).Select(_ => new CancellationTokenSource())];
        _workers = [.. Enumerable.Range(0, replicas.Count * workersPerReplica).Select(worker => Task.Run(async () =>
        {
            var replica = worker % replicas.Count;
            for (var i = 0; !_stops[replica].IsCancellationRequested; i++)
            {
                Outcomes.Enqueue(await replicas.StreamAsync(replica, clientKey, $"Load {worker}.{i}.", maxTokens));
            }
        }))];
    }

    public ConcurrentQueue<ClientOutcome> Outcomes { get; } = new();

    public int Completed(int? replica = null) => Outcomes.Count(o => o.Completed && (replica is null || o.Replica == replica));

    /// <summary>Stops sending to one replica (its workers finish the request they are in).</summary>
    public Task StopAsync(int replica) => _stops[replica].CancelAsync();

    /// <summary>Stops every worker and waits for them.</summary>
    public async Task StopAllAsync()
    {
        foreach (var stop in _stops)
        {
            await stop.CancelAsync();
        }

        await Task.WhenAll(_workers);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAllAsync();
        foreach (var stop in _stops)
        {
            stop.Dispose();
        }
    }
}

/// <summary>Keeps the status and <c>x-meteragent-usage-id</c> of the one response a client's pipeline received.</summary>
internal sealed class UsageIdCapture : PipelinePolicy
{
    public string? UsageId { get; private set; }

    public int Status { get; private set; }

    public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        ArgumentNullException.ThrowIfNull(message);
        ProcessNext(message, pipeline, currentIndex);
        Keep(message);
    }

    public override async ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        ArgumentNullException.ThrowIfNull(message);
        await ProcessNextAsync(message, pipeline, currentIndex);
        Keep(message);
    }

    private void Keep(PipelineMessage message)
    {
        if (message.Response is { } response)
        {
            Status = response.Status;
            UsageId = response.Headers.TryGetValue("x-meteragent-usage-id", out var id) ? id : null;
        }
    }
}
