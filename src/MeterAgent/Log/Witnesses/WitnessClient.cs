using System.Net;
using System.Text;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Witnesses;
using Microsoft.Extensions.Options;

using MeterAgent.Observability;

namespace MeterAgent.Log.Witnesses;

/// <summary>
/// Asks each configured witness to cosign a checkpoint (C2SP tlog-witness add-checkpoint), all at once, and returns the
/// cosignatures that verify with the witness's configured key. Per witness it keeps the size it last cosigned, to send
/// a consistency proof from it; at first (and after a restart) that is 0, and the witness's 409 answer says the real
/// size, so the request is retried once with the proof from there. A witness that is down, slow or refuses is logged
/// and skipped: publishing never waits on it longer than <see cref="WitnessOptions.WitnessTimeout"/>.
/// </summary>
internal sealed partial class WitnessClient : ICheckpointWitnesses
{
    public const string HttpClientName = "witnesses";

    /// <summary>A witness answers a few signature lines; anything much longer is not an answer.</summary>
    public const int MaxAnswerBytes = 64 * 1024;

    private readonly IHttpClientFactory _http;
    private readonly ILogger<WitnessClient> _logger;
    private readonly TimeSpan _timeout;
    private readonly ConfiguredWitness[] _witnesses;
    private readonly System.Diagnostics.Metrics.Counter<long>? _answers;

    /// <param name="http">the named client's factory</param>
    /// <param name="options">the configured witnesses</param>
    /// <param name="logger">its log</param>
    /// <param name="metrics">the agent's instruments (each witness's answer is counted); none outside a host</param>
    public WitnessClient(IHttpClientFactory http, IOptions<WitnessOptions> options, ILogger<WitnessClient> logger, MeterAgentMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _answers = metrics?.WitnessCosignatures;

        _http = http;
        _logger = logger;
        _timeout = options.Value.WitnessTimeout;
        _witnesses = [.. options.Value.Witnesses.Select(w => new ConfiguredWitness(w.Url!, CosignatureV1.ParseVerifier(w.VerifierKey!)))];
    }

    public async Task<IReadOnlyList<string>> CosignAsync(string signedNote, long treeSize, IConsistencyProver prover, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signedNote);
        ArgumentNullException.ThrowIfNull(prover);
        var note = Encoding.UTF8.GetBytes(signedNote);
        var text = SignedNote.Parse(note).Text;
        var answers = await Task.WhenAll(_witnesses.Select(w => CosignAsync(w, note, text, treeSize, prover, cancellationToken)));
        return [.. answers.SelectMany(lines => lines)];
    }

    private async Task<IReadOnlyList<string>> CosignAsync(
        ConfiguredWitness witness, byte[] note, string text, long treeSize, IConsistencyProver prover, CancellationToken cancellationToken)
    {
        // One submission per witness at a time: each starts from the size the previous one left.
        await witness.Gate.WaitAsync(cancellationToken);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_timeout);
            var lines = await SubmitAsync(witness, note, text, treeSize, prover, timeout.Token);
            Count(lines.Count > 0 ? "cosigned" : "refused");
            return lines;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            LogTimedOut(witness.Name, witness.Host, treeSize, _timeout);
            Count("unreachable");
            return [];
        }
        catch (HttpRequestException ex)
        {
            // The error kind only: an exception's message may quote the URL, which may carry credentials.
            LogUnreachable(witness.Name, witness.Host, treeSize, ex.HttpRequestError);
            Count("unreachable");
            return [];
        }
        finally
        {
            witness.Gate.Release();
        }
    }

    private void Count(string result) => _answers?.Add(1, new KeyValuePair<string, object?>("result", result));

    private async Task<IReadOnlyList<string>> SubmitAsync(
        ConfiguredWitness witness, byte[] note, string text, long treeSize, IConsistencyProver prover, CancellationToken cancellationToken)
    {
        var client = _http.CreateClient(HttpClientName);
        for (var attempt = 1; ; attempt++)
        {
            var oldSize = witness.CosignedSize;
            if (oldSize > treeSize)
            {
                LogWitnessAhead(witness.Name, witness.Host, oldSize, treeSize);
                return [];
            }

            IReadOnlyList<byte[]> proof = oldSize == 0 || oldSize == treeSize ? [] : await prover.ProveAsync(oldSize, treeSize, cancellationToken);
            using var content = new ByteArrayContent(new AddCheckpointRequest(oldSize, proof, note).Format());
            using var response = await client.PostAsync(witness.AddCheckpoint, content, cancellationToken);
            var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var lines = Accept(witness, text, answer, treeSize);
                if (lines.Count > 0)
                {
                    witness.CosignedSize = treeSize;
                }

                return lines;
            }

            if (response.StatusCode == HttpStatusCode.Conflict && attempt == 1 && TreeSizeText.TryParseBody(answer, out var cosignedSize))
            {
                LogLearnedSize(witness.Name, witness.Host, cosignedSize, oldSize);
                witness.CosignedSize = cosignedSize;
                continue;
            }

            LogRefused(witness.Name, witness.Host, treeSize, oldSize, (int)response.StatusCode);
            return [];
        }
    }

    /// <summary>The answer's lines by this witness's key, each verified; nothing if any of them fails.</summary>
    private List<string> Accept(ConfiguredWitness witness, string text, byte[] answer, long treeSize)
    {
        IReadOnlyList<NoteSignature> signatures;
        try
        {
            signatures = CosignatureV1.ParseLines(text, answer);
        }
        catch (NoteRejectedException)
        {
            LogBadAnswer(witness.Name, witness.Host, treeSize, "the answer is not signature lines");
            return [];
        }

        var lines = new List<string>();
        foreach (var signature in signatures.Where(s => s.Name == witness.Key.Name && s.KeyId == witness.Key.KeyId))
        {
            var check = CosignatureV1.Verify(witness.Key, text, signature, out _);
            if (check != CosignatureCheck.Valid)
            {
                LogBadAnswer(witness.Name, witness.Host, treeSize, $"its cosignature does not verify with its configured key ({check})");
                return [];
            }

            lines.Add(signature.ToLine());
        }

        if (lines.Count == 0)
        {
            LogBadAnswer(witness.Name, witness.Host, treeSize, "no cosignature by its configured key");
        }

        return lines;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Witness {Witness} at {Host} did not answer within {Timeout} for the checkpoint of size {TreeSize}; it is skipped")]
    private partial void LogTimedOut(string witness, string host, long treeSize, TimeSpan timeout);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Witness {Witness} at {Host} is unreachable ({Error}) for the checkpoint of size {TreeSize}; it is skipped")]
    private partial void LogUnreachable(string witness, string host, long treeSize, HttpRequestError error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Witness {Witness} at {Host} last cosigned size {CosignedSize}, not {OldSize}; resubmitting with the proof from there")]
    private partial void LogLearnedSize(string witness, string host, long cosignedSize, long oldSize);

    [LoggerMessage(Level = LogLevel.Error, Message = "Witness {Witness} at {Host} refused the checkpoint of size {TreeSize} (old size {OldSize}): HTTP {Status}")]
    private partial void LogRefused(string witness, string host, long treeSize, long oldSize, int status);

    [LoggerMessage(Level = LogLevel.Error, Message = "Witness {Witness} at {Host} has cosigned size {CosignedSize}, above this checkpoint's {TreeSize}: the log was rolled back, or another log signs with its key")]
    private partial void LogWitnessAhead(string witness, string host, long cosignedSize, long treeSize);

    [LoggerMessage(Level = LogLevel.Error, Message = "Witness {Witness} at {Host} answered the checkpoint of size {TreeSize} with no usable cosignature: {Reason}")]
    private partial void LogBadAnswer(string witness, string host, long treeSize, string reason);

    /// <summary>One configured witness and what the client knows of it.</summary>
    private sealed class ConfiguredWitness(string url, NoteVerifier key)
    {
        public Uri AddCheckpoint { get; } = new(url.TrimEnd('/') + "/add-checkpoint");

        public NoteVerifier Key { get; } = key;

        public string Name => Key.Name;

        /// <summary>Host and port only, for logs: never the URL's user information, path or query.</summary>
        public string Host => AddCheckpoint.Authority;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        /// <summary>The size the witness last cosigned, as far as this process knows (0 until it learns).</summary>
        public long CosignedSize { get; set; }
    }
}
