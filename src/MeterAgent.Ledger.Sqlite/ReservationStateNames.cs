using MeterAgent.Ledger.Credits;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>Reservation states as stored: lower-case words, stable whatever the enum's numbering.</summary>
internal static class ReservationStateNames
{
    public const string Pending = "pending";
    public const string Posted = "posted";
    public const string Voided = "voided";
    public const string Expired = "expired";

    public static string ToName(ReservationState state) => state switch
    {
        ReservationState.Pending => Pending,
        ReservationState.Posted => Posted,
        ReservationState.Voided => Voided,
        ReservationState.Expired => Expired,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Unknown reservation state."),
    };

    public static ReservationState FromName(string name) => name switch
    {
        Pending => ReservationState.Pending,
        Posted => ReservationState.Posted,
        Voided => ReservationState.Voided,
        Expired => ReservationState.Expired,
        _ => throw new InvalidDataException($"Unknown reservation state '{name}' in the store."),
    };
}
