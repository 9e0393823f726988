using MeterAgent.Demo;
using MeterAgent.Hosting;
using MeterAgent.Verify;

// verify, witness: the usage log's verifier and a C2SP witness (docs/attestation.md, "Verify" and "Witnesses").
if (MeterAgentTool.Handles(args))
{
    return await MeterAgentTool.RunAsync(args, Console.Out, Console.Error);
}

// --check-config: the start-up checks without starting, exit 0 or 2 (README, "Configuration check").
if (ConfigurationCheck.Handles(args))
{
    return ConfigurationCheck.Run(args, Console.Out, Console.Error);
}

// --demo: the agent with an emulated upstream, a demo account, key and credits (README, "Set-up").
return args.Contains("--demo", StringComparer.OrdinalIgnoreCase)
    ? await DemoMode.RunAsync([.. args.Where(a => !a.Equals("--demo", StringComparison.OrdinalIgnoreCase))])
    : await MeterAgentHost.RunAsync(args);
