using System.Net;

namespace MeterAgent.IntegrationTests.WebConsole;

/// <summary>
/// Distributed mode behind a load balancer: a console session opened on one replica is read by another, because the
/// data protection keys that seal the cookie and the antiforgery tokens are kept in Redis (docs/console.md).
/// </summary>
public sealed class ConsoleReplicaTests : RedisAgentTests
{
    [SkippableFact]
    public async Task A_session_and_its_forms_opened_on_one_replica_work_on_another()
    {
        await using var first = await TestAgent.StartAsync(settings: RedisSettings("console-replicas:", "replica-a"));
        await using var second = await TestAgent.StartAsync(settings: RedisSettings("console-replicas:", "replica-b"));

        using var onFirst = new ConsoleClient(first.ProxyUrl);
        var form = await onFirst.GetAsync("/console/signin");
        Assert.Equal(HttpStatusCode.OK, (await onFirst.SubmitAsync(form, "/console/signin", ("key", first.ClientKey))).Status);

        // The same browser (its cookies) on the other replica: the session reads, and a form from the other replica's
        // page is accepted here (sign-out, antiforgery-checked), and the browser is then signed out of both.
        using var onSecond = new ConsoleClient(second.ProxyUrl, onFirst.Cookies);
        var home = await onSecond.GetAsync("/console");
        Assert.Equal(HttpStatusCode.OK, home.Status);
        Assert.Equal(second.ProxyUrl + "console", home.Url.ToString());
        Assert.Contains("Balance", home.Text, StringComparison.Ordinal);

        var records = await onFirst.GetAsync("/console/records");
        var signedOut = await onSecond.SubmitAsync(records, "/console/signout");
        Assert.Equal(HttpStatusCode.OK, signedOut.Status);
        Assert.EndsWith("/console/signin", (await onFirst.GetAsync("/console")).Url.AbsolutePath, StringComparison.Ordinal);
    }
}
