using MeterAgent.Hosting;

return await MeterAgentHost.RunAsync(args);
