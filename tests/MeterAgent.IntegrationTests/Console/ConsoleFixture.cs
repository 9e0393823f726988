using MeterAgent.Attestation.Notes;

namespace MeterAgent.IntegrationTests.WebConsole;

/// <summary>One agent for the console tests: credits on (a test clearing house), the usage log published, every log line kept.</summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    private readonly TempFolder _folder = new("meteragent-console-");

    public LogCapture Logs { get; } = new();

    public ClearingHouse House { get; private set; } = null!;

    public TestAgent Agent { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        House = ClearingHouse.Create();
        var key = NoteKeyPair.Generate("meteragent.test/log");
        Agent = await TestAgent.StartAsync(
            settings: House.AgentSettings(
                ("Attestation:SigningKeyPath", _folder.Write("log.skey", key.SignerKey)),
                ("Attestation:ReadToken", "console-tests-read-token"),
                ("Attestation:CheckpointInterval", "00:00:01"),
                ("Logging:LogLevel:Default", "Trace"),
                ("Logging:LogLevel:Microsoft", "Trace"),
                ("Logging:LogLevel:Microsoft.AspNetCore", "Trace")),
            services: Logs.AddTo);
    }

    public async Task DisposeAsync()
    {
        await Agent.DisposeAsync();
        House.Dispose();
        _folder.Dispose();
    }
}
