using System.Security.Cryptography;
using System.Text;
using MeterAgent.Contracts.Deliveries;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace MeterAgent.Credits;

/// <summary>
/// The clearing house's trusted keys, re-read when <c>Credits:TrustedKeysPath</c> changes so a key rotation needs no
/// restart. The first load happens at start-up and a bad file stops it; a bad file later keeps the keys already
/// trusted (a half-written file must not turn every delivery away) and logs an error naming the file.
/// </summary>
/// <remarks>
/// Changes are noticed by a file-system watcher and, as a fallback (events can be missed, inotify watches can run out,
/// network file systems send none), by re-reading on <see cref="DeliveryOptions.TrustedKeysPollInterval"/>. A reload is
/// decided by the content's SHA-256, not the modification time, so a rewrite within one timestamp tick is still seen.
/// </remarks>
internal sealed partial class TrustedKeys : BackgroundService
{
    // Editors and deploy tools write a file in several steps: let them finish before reading.
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(200);

    private readonly string? _path;
    private readonly DeliveryClaimRules _rules;
    private readonly TimeSpan _pollInterval;
    private readonly ILogger<TrustedKeys> _logger;
    private readonly SemaphoreSlim _changed = new(0);
    private volatile DeliveryVerifier _current;
    private byte[] _lastSeenHash = [];

    public TrustedKeys(IOptions<CreditsOptions> credits, IOptions<DeliveryOptions> delivery, ILogger<TrustedKeys> logger)
    {
        var options = delivery.Value;
        _rules = new DeliveryClaimRules
        {
            ClockSkew = options.DeliveryClockSkew,
            MaxAge = options.DeliveryMaxAge,
            Audience = options.ProviderId,
        };
        _pollInterval = options.TrustedKeysPollInterval;
        _logger = logger;
        if (credits.Value is { Enabled: true, TrustedKeysPath: { Length: > 0 } path })
        {
            _path = Path.GetFullPath(path);
            var bytes = File.ReadAllBytes(_path);
            _current = DeliveryVerifier.FromJwksJson(Encoding.UTF8.GetString(bytes), _path, _rules);
            _lastSeenHash = SHA256.HashData(bytes);
        }
        else
        {
            _current = new DeliveryVerifier(new JsonWebKeySet(), _rules);
        }
    }

    /// <summary>The verifier for the keys trusted now.</summary>
    public DeliveryVerifier Current => _current;

    /// <summary>Re-reads the file if its content changed; true when new keys were taken.</summary>
    internal bool ReloadIfChanged()
    {
        if (_path is null)
        {
            return false;
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(_path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Mid-rename or briefly absent: the next event or poll tries again. The message names the file, not its content.
            LogReloadFailed(_path, ex.Message);
            return false;
        }

        var hash = SHA256.HashData(bytes);
        if (hash.AsSpan().SequenceEqual(_lastSeenHash))
        {
            return false;
        }

        // Remembered even when the content is bad, so one bad file is reported once, not on every poll.
        _lastSeenHash = hash;
        try
        {
            var verifier = DeliveryVerifier.FromJwksJson(Encoding.UTF8.GetString(bytes), _path, _rules);
            _current = verifier;
            LogReloaded(_path, string.Join(", ", verifier.KeyIds.Order(StringComparer.Ordinal)));
            return true;
        }
        catch (InvalidDataException ex)
        {
            LogReloadFailed(_path, ex.Message);
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_path is null)
        {
            return;
        }

        using var watcher = TryWatch(_path);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await _changed.WaitAsync(_pollInterval, stoppingToken))
                {
                    await Task.Delay(Settle, stoppingToken);

                    // Several events for one write collapse into one reload.
                    while (_changed.CurrentCount > 0)
                    {
                        await _changed.WaitAsync(stoppingToken);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            ReloadIfChanged();
        }
    }

    public override void Dispose()
    {
        _changed.Dispose();
        base.Dispose();
    }

    private FileSystemWatcher? TryWatch(string path)
    {
        try
        {
            // The folder, not the file: a tool that replaces the file by a rename would end a watch on the file itself.
            var watcher = new FileSystemWatcher(Path.GetDirectoryName(path)!, Path.GetFileName(path))
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.FileName | NotifyFilters.CreationTime,
            };
            watcher.Changed += (_, _) => _changed.Release();
            watcher.Created += (_, _) => _changed.Release();
            watcher.Renamed += (_, _) => _changed.Release();
            watcher.Error += (_, _) => _changed.Release();
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or PlatformNotSupportedException)
        {
            LogWatchUnavailable(path, _pollInterval, ex.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Trusted clearing-house keys reloaded from {Path}: kids {KeyIds}")]
    private partial void LogReloaded(string path, string keyIds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Trusted keys file {Path} was not reloaded; the keys trusted before stay trusted: {Reason}")]
    private partial void LogReloadFailed(string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot watch trusted keys file {Path} ({Reason}); it is re-read every {Interval} instead")]
    private partial void LogWatchUnavailable(string path, TimeSpan interval, string reason);
}
