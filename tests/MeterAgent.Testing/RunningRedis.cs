using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace MeterAgent.Testing;

/// <summary>
/// A real Redis server (Debian's <c>redis-server</c>) as a child process on a free loopback port, append-only file on,
/// its data in a temp folder. <see cref="StopAsync"/> and <see cref="StartAgainAsync"/> take it down and bring it back
/// on the same port with the same data (an outage); disposing kills it and deletes the folder.
/// <see cref="StartClusterAsync"/> starts three masters with <c>--cluster-enabled yes</c> and joins them with
/// <c>redis-cli --cluster create</c>.
/// </summary>
public sealed class RunningRedis : IAsyncDisposable
{
    public const string InstallHint =
        "redis-server is not on PATH: apt-get install redis-server (Debian's package brings redis-server and redis-cli; .ci/run installs it)";

    private readonly List<Node> _nodes;
    private readonly TempFolder _folder;

    private RunningRedis(List<Node> nodes, TempFolder folder)
    {
        _nodes = nodes;
        _folder = folder;
    }

    /// <summary>The first node's port.</summary>
    public int Port => _nodes[0].Port;

    /// <summary>Every node's port (one for a single server, three for a cluster).</summary>
    public IReadOnlyList<int> Ports => _nodes.Select(n => n.Port).ToList();

    /// <summary>A StackExchange.Redis connection string naming every node.</summary>
    public string ConnectionString => string.Join(',', _nodes.Select(n => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{n.Port}")));

    /// <summary>What the servers wrote so far, for failure messages.</summary>
    public string Output => string.Join('\n', _nodes.SelectMany(n => n.Output));

    /// <summary>Whether <c>redis-server --version</c> runs here.</summary>
    public static bool IsInstalled() => Executable.Runs("redis-server", "--version") && Executable.Runs("redis-cli", "--version");

    /// <summary>Skips (developer machine) or fails (CI) when redis-server is missing.</summary>
    public static void Require() => Prerequisite.Require(IsInstalled(), InstallHint);

    /// <summary>One server, AOF on (appendfsync everysec), no RDB snapshots.</summary>
    public static async Task<RunningRedis> StartAsync()
    {
        var folder = new TempFolder("meteragent-redis-");
        var node = new Node(FreePort.Next(), folder.File("n0"), cluster: false);
        var redis = new RunningRedis([node], folder);
        try
        {
            await node.StartAsync();
        }
        catch
        {
            await redis.DisposeAsync();
            throw;
        }

        return redis;
    }

    /// <summary>Three masters, no replicas, slots spread by <c>redis-cli --cluster create</c>; returns once the cluster is ok.</summary>
    public static async Task<RunningRedis> StartClusterAsync()
    {
        var folder = new TempFolder("meteragent-redis-cluster-");
        var nodes = Enumerable.Range(0, 3).Select(i => new Node(FreePort.Next(), folder.File("n" + i.ToString(CultureInfo.InvariantCulture)), cluster: true)).ToList();
        var redis = new RunningRedis(nodes, folder);
        try
        {
            foreach (var node in nodes)
            {
                await node.StartAsync();
            }

            var create = new List<string> { "--cluster", "create" };
            create.AddRange(nodes.Select(n => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{n.Port}")));
            create.AddRange(["--cluster-replicas", "0", "--cluster-yes"]);
            var (code, output) = await RunAsync("redis-cli", create);
            if (code != 0)
            {
                throw new InvalidOperationException($"redis-cli --cluster create failed ({code}):\n{output}\n{redis.Output}");
            }

            await Eventually.TrueAsync(
                async () => (await Task.WhenAll(nodes.Select(n => CliAsync(n.Port, "cluster", "info")))).All(info => info.Contains("cluster_state:ok", StringComparison.Ordinal)),
                "redis cluster_state:ok on every node");
        }
        catch
        {
            await redis.DisposeAsync();
            throw;
        }

        return redis;
    }

    /// <summary>Runs <c>redis-cli -p port args...</c> against the first node and returns its output.</summary>
    public Task<string> CliAsync(params string[] args) => CliAsync(Port, args);

    /// <summary>
    /// Stops every node (SIGKILL: an outage, not a shutdown); the data stays for <see cref="StartAgainAsync"/>. Every
    /// write a node acknowledged is kept: each is switched to <c>appendfsync always</c> just before, so a write is in
    /// its AOF before its reply. Under <c>everysec</c> (the nodes' setting, and the documented one) a kill can also lose
    /// the last second or two of acknowledged writes: a different failure (docs/distributed.md, "Redis restart with
    /// AOF"), which these outages must not add by chance, as a reserve made just before one did.
    /// </summary>
    public async Task StopAsync()
    {
        foreach (var node in _nodes)
        {
            await node.KeepAcknowledgedWritesAsync();
        }

        foreach (var node in _nodes)
        {
            await node.KillAsync();
        }
    }

    /// <summary>Starts every node again on its port with its data (AOF replayed).</summary>
    public async Task StartAgainAsync()
    {
        foreach (var node in _nodes)
        {
            await node.StartAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.KillAsync();
        }

        _folder.Dispose();
    }

    private static async Task<string> CliAsync(int port, params string[] args)
    {
        var all = new List<string> { "-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture) };
        all.AddRange(args);
        var (_, output) = await RunAsync("redis-cli", all);
        return output;
    }

    private static async Task<(int Code, string Output)> RunAsync(string program, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private sealed class Node(int port, string dir, bool cluster)
    {
        private Process? _process;
        private int? _busPort;

        public int Port { get; } = port;

        public ConcurrentQueue<string> Output { get; } = new();

        public async Task StartAsync()
        {
            Directory.CreateDirectory(dir);
            var start = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
            string[] args =
            [
                "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", dir,
                "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no", "--loglevel", "warning",
                "--protected-mode", "no",
            ];
            foreach (var arg in args)
            {
                start.ArgumentList.Add(arg);
            }

            if (cluster)
            {
                // The cluster bus port defaults to port + 10000, which can land in the ephemeral range and be taken by
                // a client socket: it gets a free port of its own, kept across an outage.
                _busPort ??= FreePort.Next();
                foreach (var arg in new[]
                {
                    "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000",
                    "--cluster-port", _busPort.Value.ToString(CultureInfo.InvariantCulture),
                })
                {
                    start.ArgumentList.Add(arg);
                }
            }

            var process = Process.Start(start) ?? throw new InvalidOperationException("could not start redis-server");
            process.OutputDataReceived += (_, line) => Keep(line.Data);
            process.ErrorDataReceived += (_, line) => Keep(line.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _process = process;
            await Eventually.TrueAsync(
                async () =>
                {
                    if (process.HasExited)
                    {
                        throw new InvalidOperationException($"redis-server exited with {process.ExitCode} before it answered:\n{string.Join('\n', Output)}");
                    }

                    return (await CliAsync(Port, "ping")).Contains("PONG", StringComparison.Ordinal);
                },
                "redis-server answers PING");
        }

        /// <summary>
        /// <c>appendfsync always</c> until the node is killed (a restart reads its command line again): the reply to
        /// this command comes after the AOF buffer, writes that <c>everysec</c> had postponed included, is written.
        /// </summary>
        public async Task KeepAcknowledgedWritesAsync()
        {
            var reply = await CliAsync(Port, "config", "set", "appendfsync", "always");
            if (!reply.Contains("OK", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"redis-server on port {Port} refused appendfsync always: {reply}");
            }
        }

        public async Task KillAsync()
        {
            if (_process is { HasExited: false })
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process?.Dispose();
            _process = null;
        }

        private void Keep(string? line)
        {
            if (line is not null && Output.Count < 10_000)
            {
                Output.Enqueue(line);
            }
        }
    }
}
