using System.IO.Pipelines;
using MeterAgent.Ledger.Redis;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Tests.Redis;

/// <summary>
/// When Redis goes away mid-write, StackExchange.Redis can let its socket pipe's refusal through as a plain
/// InvalidOperationException (seen in CI: it ended the shared log appender's loop, and with it the replica). The
/// background loops that retry on their next pass, and the outage check on the request path, take it for what it is.
/// </summary>
public sealed class ConnectionFailureTests
{
    [Fact]
    public void A_pipe_that_refuses_a_write_after_its_connection_closed_is_a_connection_failure()
    {
        var pipe = new Pipe();
        pipe.Writer.Complete();
        var refused = Assert.Throws<InvalidOperationException>(() => pipe.Writer.GetSpan(16));

        Assert.True(RedisUnavailable.IsConnectionFailure(refused));
        Assert.True(RedisUnavailable.IsConnectionFailure(new RedisConnectionException(ConnectionFailureType.SocketFailure, "reset")));
        Assert.True(RedisUnavailable.IsConnectionFailure(new TimeoutException()));
    }

    [Fact]
    public void Any_other_invalid_operation_is_not()
    {
        // A bug in the agent's own code must still surface, not be retried forever as an outage.
        Assert.False(RedisUnavailable.IsConnectionFailure(new InvalidOperationException("Sequence contains no elements")));
        Assert.False(RedisUnavailable.IsConnectionFailure(new ArgumentException("bad")));
    }
}
