namespace MeterAgent.Testing;

/// <summary>
/// What a test needs from the machine (Node, an npm install). On a developer machine a missing prerequisite skips the
/// test with the message; in CI it fails it: CI must run every test.
/// </summary>
public static class Prerequisite
{
    /// <summary>
    /// CI is any non-empty value of the CI variable except "false" and "0" (CI services set "true", "1", "yes", or a
    /// name).
    /// </summary>
    public static bool InCi => IsCiValue(Environment.GetEnvironmentVariable("CI"));

    public static bool IsCiValue(string? value) =>
        !string.IsNullOrWhiteSpace(value)
        && !string.Equals(value.Trim(), "false", StringComparison.OrdinalIgnoreCase)
        && value.Trim() != "0";

    /// <summary>Skips the test (a [SkippableFact]) when <paramref name="met"/> is false, or fails it in CI.</summary>
    public static void Require(bool met, string message)
    {
        if (met)
        {
            return;
        }

        if (InCi)
        {
            throw new Xunit.Sdk.XunitException($"{message} (CI runs every test: a missing prerequisite fails it)");
        }

        Skip.If(true, message);
    }
}
