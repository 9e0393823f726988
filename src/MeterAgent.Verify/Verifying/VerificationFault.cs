namespace MeterAgent.Verify.Verifying;

/// <summary>What the log gets wrong, in one line: the first fault found ends the run with exit code 1.</summary>
internal sealed class VerificationFault : Exception
{
    public VerificationFault(string message)
        : base(message)
    {
    }

    public VerificationFault()
    {
    }

    public VerificationFault(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
