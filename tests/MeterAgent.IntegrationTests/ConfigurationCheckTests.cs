namespace MeterAgent.IntegrationTests;

/// <summary>
/// <c>MeterAgent --check-config</c> and a start on the same settings, run as the real executable: each bad setting is one
/// line naming its key, the exit code is 2, and no secret value is printed; a good configuration is "configuration OK".
/// </summary>
public sealed class ConfigurationCheckTests
{
    private const string Redis = "--Store:Kind=redis --Redis:ConnectionString=127.0.0.1:1";

    // One bad setting (with what it needs to be read at all) per section the agent reads, and what the line must say.
    public static TheoryData<string, string> BadSettings => new()
    {
        { "--MeterAgent:ProxyPort=0", "MeterAgent:ProxyPort must be 1-65535" },
        { "--MeterAgent:ListenAddress=everywhere", "MeterAgent:ListenAddress 'everywhere' is not an IP address" },
        { "--MeterAgent:DrainTimeout=02:00:00", "MeterAgent:DrainTimeout must be between 00:00:00 and 01:00:00" },
        { "--MeterAgent:DrainTimeout=soon", "MeterAgent:DrainTimeout must be a time span" },
        { "--MeterAgent:MaxRequestBodyBytes=lots", "MeterAgent:MaxRequestBodyBytes must be a whole number" },
        { "--MeterAgent:ManagementTls:KeyPath=/nowhere/key.pem", "MeterAgent:ManagementTls:CertificatePath must be set" },
        { "--Store:Synchronous=Sometimes", "Store:Synchronous must be one of Normal, Full" },
        { "--Store:Kind=mongo", "Store:Kind must be one of sqlite, redis" },
        { "--Store:ReservationSweepInterval=00:00:00", "Store:ReservationSweepInterval must be between" },
        { "--Store:MaxBatchSize=0", "Store:MaxBatchSize must be between 1 and 10000" },
        { $"{Redis} --Redis:KeyPrefix=a{{b}}", "Redis:KeyPrefix must be non-empty and hold no braces" },
        { $"{Redis} --Redis:LogBatchSize=0", "Redis:LogBatchSize must be between 1 and 10000" },
        { "--Attestation:CheckpointInterval=00:00:00", "Attestation:CheckpointInterval must be more than zero" },
        { "--Attestation:SigningKeyPath=/nowhere/log.key", "Attestation:SigningKeyPath names no file" },
        { "--Attestation:WitnessTimeout=-00:00:01", "Attestation:WitnessTimeout must be positive" },
        { "--Credits:DeliveryClockSkew=2.00:00:00", "Credits:DeliveryClockSkew must be between 00:00:00 and 1.00:00:00" },
        { "--Credits:Enabled=true --Credits:ContractsPath=/nowhere/contracts", "Credits:ContractsPath '/nowhere/contracts' is not a folder" },
        { "--Credits:Enabled=maybe", "Credits:Enabled must be true or false" },
        { "--Metrics:MaxModelLabels=0", "Metrics:MaxModelLabels must be between 1 and 10000" },
        { "--Tracing:Exporter=zipkin", "Tracing:Exporter must be 'otlp' or 'none'" },
        { "--RateLimits:DefaultTokensPerMinute=-1", "RateLimits:DefaultTokensPerMinute" },
        { "--ReverseProxy:Clusters:openai:Destinations:primary:Address=api.openai.com", "ReverseProxy:Clusters:openai:Destinations:primary:Address must be an absolute http or https URL" },
        { "--ReverseProxy:Routes:openai-chat:ClusterId=opnai", "ReverseProxy:Routes:openai-chat:ClusterId 'opnai' names no cluster of ReverseProxy:Clusters (there are: anthropic, openai)" },
        { "--ReverseProxy:Routes:openai-chat:Metadata:MeterAgent.Surface=openai.chat", "ReverseProxy:Routes:openai-chat:Metadata:MeterAgent.Surface must be one of" },
        { "--ReverseProxy:Clusters:openai:LoadBalancingPolicy=Nope", "ReverseProxy:Clusters:openai: " },
        { "--MeterAgent:Upstreams:opnai:ApiKey=sk-upstream", "MeterAgent:Upstreams:opnai names no cluster of ReverseProxy:Clusters" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task A_bad_setting_is_named_on_its_own_line_and_the_check_exits_2(string settings, string expected)
    {
        using var folder = new TempFolder("meteragent-check-");
        var result = await CheckAsync(folder, settings.Split(' '));

        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}:\n{result.Output}\n{result.Error}");
        var lines = ProblemLines(result.Error);
        Assert.True(lines.Any(line => line.Contains(expected, StringComparison.Ordinal)), $"no line says '{expected}':\n{result.Error}");
        Assert.DoesNotContain("configuration OK", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);

        // A check opens no store: nothing is written where the database would be.
        Assert.False(File.Exists(folder.File("meteragent.db")));
    }

    [Fact]
    public async Task A_good_configuration_is_OK_with_exit_0_and_no_store_opened()
    {
        using var folder = new TempFolder("meteragent-check-");
        var result = await CheckAsync(folder, "--MeterAgent:AdminToken=admin-token-of-sixteen", "--MeterAgent:Upstreams:openai:ApiKey=sk-upstream");

        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}:\n{result.Output}\n{result.Error}");
        Assert.Equal("configuration OK", result.Output.Trim());
        Assert.Equal(string.Empty, result.Error);
        Assert.False(File.Exists(folder.File("meteragent.db")));
    }

    [Fact]
    public async Task Several_bad_settings_are_each_named_once()
    {
        using var folder = new TempFolder("meteragent-check-");
        var result = await CheckAsync(folder, "--MeterAgent:ProxyPort=0", "--Store:MaxBatchSize=0", "--Metrics:MaxModelLabels=0", "--MeterAgent:DrainTimeout=-00:00:01");

        Assert.Equal(2, result.ExitCode);
        var lines = ProblemLines(result.Error);
        Assert.Equal(4, lines.Count);
        Assert.Contains("4 problems", result.Error, StringComparison.Ordinal);
        foreach (var key in new[] { "MeterAgent:ProxyPort", "Store:MaxBatchSize", "Metrics:MaxModelLabels", "MeterAgent:DrainTimeout" })
        {
            Assert.Single(lines, line => line.StartsWith(key, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task No_secret_value_is_printed()
    {
        using var folder = new TempFolder("meteragent-check-");
        const string AdminToken = "hunter2-admin";
        const string UpstreamKey = "sk-upstream-secret-key-value";
        const string Password = "pa55word-in-url";
        const string ReadToken = "short-read";
        var result = await CheckAsync(folder,
            $"--MeterAgent:AdminToken={AdminToken}",
            $"--MeterAgent:Upstreams:opnai:ApiKey={UpstreamKey}",
            $"--ReverseProxy:Clusters:openai:Destinations:primary:Address=http//user:{Password}@upstream",
            $"--Redis:ConnectionString=127.0.0.1:1,password={Password}",
            $"--Attestation:ReadToken={ReadToken}");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("MeterAgent:AdminToken must be at least 16 characters", result.Error, StringComparison.Ordinal);
        Assert.Contains("MeterAgent:Upstreams:opnai names no cluster", result.Error, StringComparison.Ordinal);
        Assert.Contains("ReverseProxy:Clusters:openai:Destinations:primary:Address", result.Error, StringComparison.Ordinal);
        foreach (var secret in new[] { AdminToken, UpstreamKey, Password, ReadToken })
        {
            Assert.DoesNotContain(secret, result.Output + result.Error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_start_with_a_bad_setting_stops_with_the_checks_lines_and_exit_2_before_opening_the_store()
    {
        using var folder = new TempFolder("meteragent-check-");
        string[] bad = ["--Store:Synchronous=Sometimes", "--MeterAgent:AdminToken=too-short", "--ReverseProxy:Routes:openai-chat:ClusterId=opnai"];
        var check = await CheckAsync(folder, bad);
        var start = await AgentCommand.RunAsync(folder.Path, [.. Common(folder), .. bad]);

        Assert.Equal(2, start.ExitCode);
        Assert.Equal(3, ProblemLines(check.Error).Count);
        Assert.Equal(ProblemLines(check.Error), ProblemLines(start.Error));
        Assert.DoesNotContain("   at ", start.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", start.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(folder.File("meteragent.db")));
    }

    private static Task<AgentCommandResult> CheckAsync(TempFolder folder, params string[] settings) =>
        AgentCommand.RunAsync(folder.Path, ["--check-config", .. Common(folder), .. settings.Where(s => s.Length > 0)]);

    // Ports nobody listens on (a check binds none); the store in the test's folder; logs quiet.
    private static string[] Common(TempFolder folder) =>
    [
        "--MeterAgent:ProxyPort=" + FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--MeterAgent:ManagementPort=" + FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--Store:Path=" + folder.File("meteragent.db"),
        "--Logging:LogLevel:Default=Warning",
    ];

    // The report's lines after its heading, each one problem.
    private static List<string> ProblemLines(string error) =>
        [.. error.Split('\n').Where(line => line.StartsWith("  ", StringComparison.Ordinal)).Select(line => line.Trim())];
}
