using System.Globalization;
using System.Net.Sockets;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Witnesses;
using MeterAgent.Verify;

namespace MeterAgent.Testing;

/// <summary>
/// A C2SP tlog-witness as the tool runs it (<c>meteragent witness --key ... --listen ... --log ... --state ...</c>, the
/// same entry point, in process): real Kestrel on a loopback port, its state in a folder of its own. It can be
/// stopped and started again on the same port and state, as a restarted witness is.
/// </summary>
public sealed class RunningWitness : IAsyncDisposable
{
    private readonly TempFolder _folder;
    private readonly string _keyFile;
    private readonly IReadOnlyList<string> _logKeys;
    private readonly int _port;
    private CancellationTokenSource? _stop;
    private Task<int>? _run;
    private StringWriter _stderr = new();

    private RunningWitness(TempFolder folder, string name, NoteKeyPair key, IReadOnlyList<string> logKeys, int port)
    {
        _folder = folder;
        _keyFile = folder.Write("witness.skey", key.SignerKey);
        VerifierKey = key.VerifierKey;
        Name = name;
        _logKeys = logKeys;
        _port = port;
    }

    public string Name { get; }

    /// <summary>The witness's cosigner vkey, for Attestation:Witnesses and verify --witness.</summary>
    public string VerifierKey { get; }

    /// <summary>The submission (and monitoring) prefix, e.g. http://127.0.0.1:40123.</summary>
    public string Url => string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{_port}");

    public string StateDirectory => _folder.File("state");

    /// <summary>What the tool wrote on stderr since the last start.</summary>
    public string Stderr => _stderr.ToString();

    /// <param name="name">the witness key's name, e.g. witness.test/w1</param>
    /// <param name="logVerifierKeys">the logs it witnesses (their vkeys; each name is an origin)</param>
    public static async Task<RunningWitness> StartAsync(string name, params string[] logVerifierKeys)
    {
        var witness = new RunningWitness(new TempFolder("meteragent-witness-"), name, CosignatureV1.GenerateKey(name), logVerifierKeys, FreePort.Next());
        await witness.StartAsync();
        return witness;
    }

    /// <summary>Starts the tool (again); returns once it accepts connections.</summary>
    public async Task StartAsync()
    {
        _stop = new CancellationTokenSource();
        _stderr = new StringWriter();
        string[] args =
        [
            "witness", "--key", _keyFile, "--listen", string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{_port}"), "--state", StateDirectory,
            .. _logKeys.SelectMany(k => new[] { "--log", k }),
        ];
        _run = MeterAgentTool.RunAsync(args, TextWriter.Null, TextWriter.Synchronized(_stderr), _stop.Token);
        await Eventually.TrueAsync(
            async () =>
            {
                if (_run.IsCompleted)
                {
                    throw new InvalidOperationException($"the witness exited with {await _run}: {Stderr}");
                }

                using var client = new TcpClient();
                try
                {
                    await client.ConnectAsync("127.0.0.1", _port);
                    return true;
                }
                catch (SocketException)
                {
                    return false;
                }
            },
            $"witness {Name} listening on port {_port}");
    }

    /// <summary>Stops the tool as Ctrl+C would; its state stays on disk.</summary>
    public async Task StopAsync()
    {
        if (_stop is null || _run is null)
        {
            return;
        }

        await _stop.CancelAsync();
        Assert.Equal(0, await _run);
        _stop.Dispose();
        _stop = null;
        _run = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _folder.Dispose();
    }
}
