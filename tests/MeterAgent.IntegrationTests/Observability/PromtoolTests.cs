namespace MeterAgent.IntegrationTests.Observability;

/// <summary>promtool on the alert rules: they load, and each alert's unit tests (deploy/prometheus/tests) pass.</summary>
public sealed class PromtoolTests
{
    [SkippableFact]
    public void The_rules_file_passes_promtool_check_rules()
    {
        Prerequisite.Require(RunningPrometheus.PromtoolIsInstalled(), RunningPrometheus.InstallHint);
        var (exitCode, output) = Promtool.Run(Promtool.RulesFolder, "check", "rules", Promtool.RulesFile);
        Assert.True(exitCode == 0, $"promtool check rules failed:\n{output}");
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Every_alert_s_promtool_unit_tests_pass()
    {
        Prerequisite.Require(RunningPrometheus.PromtoolIsInstalled(), RunningPrometheus.InstallHint);
        var testsFolder = Path.Combine(Promtool.RulesFolder, "tests");
        var files = Promtool.TestFiles.Select(f => Path.GetFileName(f)).ToArray();
        Assert.NotEmpty(files);
        var (exitCode, output) = Promtool.Run(testsFolder, ["test", "rules", .. files]);
        Assert.True(exitCode == 0, $"promtool test rules failed:\n{output}");
        Assert.DoesNotContain("FAILED", output, StringComparison.Ordinal);
    }
}
