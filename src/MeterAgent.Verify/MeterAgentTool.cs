using MeterAgent.Verify.Verifying;
using MeterAgent.Verify.Witnessing;

namespace MeterAgent.Verify;

/// <summary>
/// The tools behind the agent's executable: <c>verify</c> checks the usage log from the outside, <c>witness</c> runs a
/// C2SP tlog-witness. Exit codes: 0 all holds (or the server stopped), 1 a fault (named on stderr), 2 bad usage.
/// </summary>
public static class MeterAgentTool
{
    public const int Ok = 0;
    public const int Fault = 1;
    public const int BadUsage = 2;

    /// <summary>Whether the command line is one of the tools' (its first argument names the tool).</summary>
    public static bool Handles(IReadOnlyList<string> args) =>
        args is [VerifyCommand.Name, ..] or [WitnessCommand.Name, ..];

    public static Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        return args[0] == VerifyCommand.Name
            ? VerifyCommand.RunAsync([.. args.Skip(1)], stdout, stderr, cancellationToken)
            : WitnessCommand.RunAsync([.. args.Skip(1)], stdout, stderr, cancellationToken);
    }
}
