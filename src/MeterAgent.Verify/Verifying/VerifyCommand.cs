using System.Globalization;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Witnesses;
using MeterAgent.Verify.Cli;

namespace MeterAgent.Verify.Verifying;

/// <summary><c>meteragent verify</c>: the command line, the exit codes, and where the result is written.</summary>
internal static class VerifyCommand
{
    public const string Name = "verify";

    public const string Usage = """
        usage: meteragent verify --log <base-url-or-directory> --key <vkey> [--key <old vkey> ...]
                                 [--token <token>] [--state <file>] [--witness <vkey> ... [--quorum <k>]]

          --log      the management port's base URL (http://host:port) or a directory holding the same paths
                     (log/checkpoint, log/tile/..., log/statements/<seq>, optionally log/statements.json)
          --key      the log's verifier key; repeat for old keys, so statements they signed verify
          --token    the clearing house's read token (Attestation:ReadToken), for a URL
          --state    a file keeping the last verified checkpoint: the next run must extend it
          --witness  a witness's cosigner key (type 0x04); repeat for each
          --quorum   how many of the witnesses must have cosigned the checkpoint (default: all of them)

        exit codes: 0 all holds (a one-line summary on stdout), 1 a fault (named on stderr), 2 bad usage
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

        VerifyOptions options;
        try
        {
            options = Parse(args);
        }
        catch (UsageException ex)
        {
            await stderr.WriteLineAsync($"verify: {ex.Message}\n\n{Usage}");
            return MeterAgentTool.BadUsage;
        }

        try
        {
            await stdout.WriteLineAsync(await LogVerifier.RunAsync(options, stderr, cancellationToken));
            return MeterAgentTool.Ok;
        }
        catch (VerificationFault ex)
        {
            await stderr.WriteLineAsync($"verify: FAILED: {ex.Message}");
            return MeterAgentTool.Fault;
        }
        catch (LogSourceException ex)
        {
            await stderr.WriteLineAsync($"verify: cannot read the log: {ex.Message}");
            return MeterAgentTool.Fault;
        }
    }

    internal static VerifyOptions Parse(IReadOnlyList<string> args)
    {
        var parsed = Arguments.Parse(args, single: ["--log", "--token", "--state", "--quorum"], repeated: ["--key", "--witness"]);
        var source = parsed.Required("--log");
        var isUrl = Uri.TryCreate(source, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps);
        if (!isUrl && !Directory.Exists(source))
        {
            throw new UsageException($"--log {source} is neither an http(s) URL nor a directory");
        }

        var keys = parsed.All("--key").Select(k => Key("--key", k, NoteVerifier.Parse)).ToList();
        if (keys.Count == 0)
        {
            throw new UsageException("--key is required (the log's verifier key, from GET /log/key)");
        }

        // A witness named twice is still one witness: it must not count twice towards the quorum.
        var witnesses = parsed.All("--witness").Select(k => Key("--witness", k, CosignatureV1.ParseVerifier)).DistinctBy(k => k.VerifierKey).ToList();
        var quorum = witnesses.Count;
        if (parsed.Optional("--quorum") is { } k)
        {
            if (witnesses.Count == 0)
            {
                throw new UsageException("--quorum needs the witnesses' keys (--witness)");
            }

            if (!int.TryParse(k, NumberStyles.None, CultureInfo.InvariantCulture, out quorum) || quorum < 1 || quorum > witnesses.Count)
            {
                throw new UsageException($"--quorum {k} must be a number from 1 to the {witnesses.Count} witnesses given");
            }
        }

        return new VerifyOptions(source, keys, parsed.Optional("--token"), parsed.Optional("--state"), witnesses, quorum);
    }

    private static NoteVerifier Key(string option, string text, Func<string, NoteVerifier> parse)
    {
        try
        {
            return parse(text);
        }
        catch (FormatException ex)
        {
            throw new UsageException($"{option}: {ex.Message}");
        }
    }
}
