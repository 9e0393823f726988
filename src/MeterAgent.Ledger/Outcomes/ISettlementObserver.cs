namespace MeterAgent.Ledger.Outcomes;

/// <summary>
/// Reacts to every settled request, once, in registration order (metrics, the attestation log, a shipper to Redis):
/// a new capability that reacts to finished requests is one more observer registered in DI. It runs after the outcome
/// is durable, off the client's response; a failing observer is logged and does not stop the others.
/// </summary>
public interface ISettlementObserver
{
    ValueTask OnSettledAsync(SettledRequest settled, CancellationToken cancellationToken);
}
