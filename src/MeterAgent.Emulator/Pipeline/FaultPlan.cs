namespace MeterAgent.Emulator.Pipeline;

/// <summary>
/// The faults to inject into one response, parsed from "x-emulator-fault" (or <see cref="EmulatorOptions.Fault"/>):
/// a comma-separated list of error[:status], disconnect, no-usage, malformed, hang.
/// </summary>
internal readonly record struct FaultPlan(int ErrorStatus, bool Disconnect, bool NoUsage, bool Malformed, bool Hang)
{
    public const string HeaderName = "x-emulator-fault";

    public static readonly FaultPlan None;

    public bool IsError => ErrorStatus != 0;

    public static bool TryParse(string? value, out FaultPlan plan, out string? invalid)
    {
        plan = None;
        invalid = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            return true;
        }

        foreach (var raw in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var part = raw.ToLowerInvariant();
            if (part == "error")
            {
                plan = plan with { ErrorStatus = 500 };
            }
            else if (part.StartsWith("error:", StringComparison.Ordinal)
                && int.TryParse(part.AsSpan(6), System.Globalization.CultureInfo.InvariantCulture, out var status)
                && status is >= 400 and <= 599)
            {
                plan = plan with { ErrorStatus = status };
            }
            else if (part == "disconnect")
            {
                plan = plan with { Disconnect = true };
            }
            else if (part == "no-usage")
            {
                plan = plan with { NoUsage = true };
            }
            else if (part == "malformed")
            {
                plan = plan with { Malformed = true };
            }
            else if (part == "hang")
            {
                plan = plan with { Hang = true };
            }
            else
            {
                invalid = raw;
                return false;
            }
        }

        return true;
    }
}
