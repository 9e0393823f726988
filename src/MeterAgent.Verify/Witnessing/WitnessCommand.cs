using System.Globalization;
using System.Net;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Witnesses;
using MeterAgent.Verify.Cli;

namespace MeterAgent.Verify.Witnessing;

/// <summary><c>meteragent witness</c>: runs a C2SP tlog-witness for the given logs, or makes a witness key.</summary>
internal static class WitnessCommand
{
    public const string Name = "witness";

    public const string Usage = """
        usage: meteragent witness --key <skey file> --listen <host:port> --log <log vkey> [--log ...] --state <dir>
               meteragent witness --new-key <name> --key <skey file>

          --key      a file holding the witness's signer key (PRIVATE+KEY+<name>+<hash>+<base64>, type 0x04)
          --listen   the address to serve on, e.g. 127.0.0.1:7380 or 0.0.0.0:7380
          --log      a log's verifier key (GET /log/key); its name is the log's origin. Repeat for more logs or keys
          --state    a directory where the latest cosigned checkpoint of each log is kept (survives restarts)
          --new-key  writes a new witness key named <name> to the --key file (not over an existing one) and prints
                     its verifier key, for the agent's Attestation:Witnesses and for verify --witness

        serves POST /add-checkpoint and GET /<sha256 of origin, hex>/checkpoint until stopped (Ctrl+C).
        exit codes: 0 stopped, 1 could not start, 2 bad usage
        """;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        if (args.Any(a => a is "--help" or "-h"))
        {
            await stdout.WriteLineAsync(Usage);
            return MeterAgentTool.Ok;
        }

        try
        {
            var parsed = Arguments.Parse(args, single: ["--key", "--listen", "--state", "--new-key"], repeated: ["--log"]);
            if (parsed.Optional("--new-key") is { } name)
            {
                return await NewKeyAsync(name, parsed.Required("--key"), stdout, stderr);
            }

            var options = Parse(parsed);
            await using var server = await WitnessServer.StartAsync(options, logToStderr: true, cancellationToken);
            await stderr.WriteLineAsync(
                $"witness {options.Key.Verifier.VerifierKey} listening on {server.Url} for {string.Join(", ", server.Witness.Origins)}; state in {Path.GetFullPath(options.StateDirectory)}");
            await server.WaitForShutdownAsync(cancellationToken);
            return MeterAgentTool.Ok;
        }
        catch (UsageException ex)
        {
            await stderr.WriteLineAsync($"witness: {ex.Message}\n\n{Usage}");
            return MeterAgentTool.BadUsage;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"witness: cannot start: {ex.Message}");
            return MeterAgentTool.Fault;
        }
    }

    internal static WitnessServerOptions Parse(Arguments parsed)
    {
        var keyFile = parsed.Required("--key");
        NoteSigner key;
        try
        {
            key = CosignatureV1.ParseSigner(File.ReadAllText(keyFile).Trim());
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
        {
            // The message names the part that is wrong, never the key.
            throw new UsageException($"--key {keyFile} is not a readable witness signer key: {ex.Message}");
        }

        var logKeys = parsed.All("--log").Select(vkey =>
        {
            try
            {
                return NoteVerifier.Parse(vkey);
            }
            catch (FormatException ex)
            {
                throw new UsageException($"--log: {ex.Message}");
            }
        }).ToList();
        if (logKeys.Count == 0)
        {
            throw new UsageException("--log is required (a log's verifier key)");
        }

        return new WitnessServerOptions(key, WitnessedLog.FromKeys(logKeys), parsed.Required("--state"), Listen(parsed.Required("--listen")));
    }

    /// <summary><c>host:port</c>, where host is an IP address (IPv6 in brackets) or localhost.</summary>
    internal static IPEndPoint Listen(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon > 0 && text[..colon] == "localhost"
            && int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= IPEndPoint.MaxPort)
        {
            return new IPEndPoint(IPAddress.Loopback, port);
        }

        return IPEndPoint.TryParse(text, out var endpoint) && colon > 0 && text[(colon + 1)..].All(char.IsAsciiDigit)
            ? endpoint
            : throw new UsageException($"--listen {text} is not <host:port> (an IP address or localhost, and a port)");
    }

    private static async Task<int> NewKeyAsync(string name, string keyFile, TextWriter stdout, TextWriter stderr)
    {
        NoteKeyPair pair;
        try
        {
            pair = CosignatureV1.GenerateKey(name);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"--new-key: {ex.Message}");
        }

        try
        {
            // A secret: readable by its owner only (0600), as the log's own key should be.
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using var file = new FileStream(keyFile, create);
            using var writer = new StreamWriter(file);
            await writer.WriteLineAsync(pair.SignerKey);
        }
        catch (IOException ex)
        {
            await stderr.WriteLineAsync($"witness: cannot write {keyFile}: {ex.Message}");
            return MeterAgentTool.Fault;
        }

        await stdout.WriteLineAsync(pair.VerifierKey);
        return MeterAgentTool.Ok;
    }
}
