namespace MeterAgent.Contracts.Deliveries;

/// <summary>The outcome of verifying a signed notice: a notice, or a stable error code and a message for the sender.</summary>
public readonly record struct DeliveryVerification(DeliveryNotice? Notice, string? ErrorCode, string? Message)
{
    public bool IsValid => Notice is not null;

    public static DeliveryVerification Ok(DeliveryNotice notice) => new(notice, null, null);

    public static DeliveryVerification Fail(string code, string message) => new(null, code, message);
}
