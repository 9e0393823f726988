using System.Security.Cryptography;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Tests.Redis.Log;

/// <summary>A real redis-server (or a three-master cluster) and a connection to it.</summary>
internal sealed class SharedRedis : IAsyncDisposable
{
    private SharedRedis(RunningRedis server, ConnectionMultiplexer connection)
    {
        Server = server;
        Connection = connection;
    }

    public RunningRedis Server { get; }

    public ConnectionMultiplexer Connection { get; }

    public static async Task<SharedRedis> StartAsync(bool cluster)
    {
        RunningRedis.Require();
        var server = cluster ? await RunningRedis.StartClusterAsync() : await RunningRedis.StartAsync();
        try
        {
            return new SharedRedis(server, await ConnectAsync(server));
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>A second connection, as another replica process has its own.</summary>
    public static Task<ConnectionMultiplexer> ConnectAsync(RunningRedis server) => ConnectionMultiplexer.ConnectAsync(server.ConnectionString);

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        await Server.DisposeAsync();
    }

    /// <summary>RFC 9162 MTH, written out from the RFC: independent of MeterAgent.Attestation's tree.</summary>
    public static byte[] MerkleRoot(IReadOnlyList<byte[]> entries)
    {
        if (entries.Count == 0)
        {
            return SHA256.HashData([]);
        }

        if (entries.Count == 1)
        {
            return SHA256.HashData([0, .. entries[0]]);
        }

        var k = 1;
        while (k * 2 < entries.Count)
        {
            k *= 2;
        }

        return SHA256.HashData([1, .. MerkleRoot([.. entries.Take(k)]), .. MerkleRoot([.. entries.Skip(k)])]);
    }
}
