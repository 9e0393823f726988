using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MeterAgent.Common;

/// <summary>
/// A listener's certificate from PEM files, reloaded when they change so a renewed certificate (cert-manager, certbot,
/// a mounted Secret) is served without a restart. Kestrel asks for the certificate on every TLS handshake; at most once
/// per <see cref="CheckInterval"/> that asks the file system for the files' modification times and sizes (two stat
/// calls), and only a change reloads. So a new connection sees a replaced certificate within CheckInterval of the
/// second file being written; connections already open keep the certificate they were made with.
/// </summary>
/// <remarks>
/// A pair that does not load (the certificate replaced but not yet its key, or a file cut short) keeps the last good
/// certificate in service and is tried again at the next check: a renewal never takes the port down.
/// </remarks>
internal sealed class ReloadingCertificate
{
    /// <summary>How stale the served certificate may be after its files change.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly string _certificatePath;
    private readonly string? _keyPath;
    private readonly TimeProvider _clock;
    private readonly Lock _gate = new();
    private X509Certificate2 _current;
    private FileStamp _stamp;
    private long _nextCheck;

    public ReloadingCertificate(string certificatePath, string? keyPath, TimeProvider? clock = null)
    {
        _certificatePath = certificatePath;
        _keyPath = keyPath;
        _clock = clock ?? TimeProvider.System;
        _stamp = Stamp();
        _current = Load();
        _nextCheck = _clock.GetTimestamp() + Ticks(CheckInterval);
    }

    /// <summary>The number of times a change was picked up (for tests and diagnostics).</summary>
    public int Reloads { get; private set; }

    /// <summary>The certificate for a new connection.</summary>
    public X509Certificate2 Current
    {
        get
        {
            var now = _clock.GetTimestamp();
            if (now < Volatile.Read(ref _nextCheck))
            {
                return Volatile.Read(ref _current);
            }

            lock (_gate)
            {
                if (now >= _nextCheck)
                {
                    _nextCheck = now + Ticks(CheckInterval);
                    TryReload();
                }

                return _current;
            }
        }
    }

    private void TryReload()
    {
        FileStamp stamp;
        try
        {
            stamp = Stamp();
        }
        catch (IOException)
        {
            return;
        }

        if (stamp == _stamp)
        {
            return;
        }

        try
        {
            var loaded = Load();

            // The previous certificate is left to the collector: a handshake in progress may still be using it.
            Volatile.Write(ref _current, loaded);
            _stamp = stamp;
            Reloads++;
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or ArgumentException or UnauthorizedAccessException)
        {
            // Half-written: keep serving the last good pair; the stamp is not taken, so the next check tries again.
        }
    }

    private X509Certificate2 Load()
    {
        var certificate = X509Certificate2.CreateFromPemFile(_certificatePath, _keyPath);
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new CryptographicException("The certificate has no private key.");
        }

        return certificate;
    }

    private FileStamp Stamp() => new(Of(_certificatePath), _keyPath is null ? default : Of(_keyPath));

    private static (DateTime, long) Of(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.LastWriteTimeUtc, info.Length) : default;
    }

    private long Ticks(TimeSpan interval) => (long)(interval.TotalSeconds * _clock.TimestampFrequency);

    private readonly record struct FileStamp((DateTime, long) Certificate, (DateTime, long) Key);
}
