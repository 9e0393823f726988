using MeterAgent.Demo;
using MeterAgent.Hosting;

// --demo: the agent with an emulated upstream, a demo account, key and credits (README, "Set-up").
return args.Contains("--demo", StringComparer.OrdinalIgnoreCase)
    ? await DemoMode.RunAsync([.. args.Where(a => !a.Equals("--demo", StringComparison.OrdinalIgnoreCase))])
    : await MeterAgentHost.RunAsync(args);
