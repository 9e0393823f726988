using MeterAgent.Ledger.Credits;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>Overage policy kinds as stored: snake_case words, stable whatever the enum's numbering.</summary>
internal static class OveragePolicyNames
{
    public const string Reject = "reject";
    public const string Allow = "allow";
    public const string AllowUpTo = "allow_up_to";

    public static string ToName(OveragePolicyKind kind) => kind switch
    {
        OveragePolicyKind.Reject => Reject,
        OveragePolicyKind.Allow => Allow,
        OveragePolicyKind.AllowUpTo => AllowUpTo,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown overage policy."),
    };

    public static OveragePolicyKind FromName(string name) => name switch
    {
        Reject => OveragePolicyKind.Reject,
        Allow => OveragePolicyKind.Allow,
        AllowUpTo => OveragePolicyKind.AllowUpTo,
        _ => throw new InvalidDataException($"Unknown overage policy '{name}' in the store."),
    };
}
