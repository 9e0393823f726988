using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MeterAgent.Attestation.Notes;
using MeterAgent.Hosting;
using Microsoft.Data.Sqlite;

namespace MeterAgent.LoadHarness;

/// <summary>
/// <c>--console-pages N</c>: the web console's pages, whole, over HTTP, on a store of N records (issue 13: every page in
/// under 200 ms at 1,000,000). For each shape the query benchmark uses (one account; 1,000 accounts) it takes the seeded
/// store (<see cref="MillionRecordStore.SeedOrReuse"/>), copies it (the agent writes to its store, and the seeded file
/// is shared with the query benchmark), starts the real agent on the copy in this process as the harness starts its
/// agents, with the usage log signed, signs in to both consoles as a browser does (the sign-in page's antiforgery token,
/// the session cookie), and times GETs of every page with realistic query strings.
/// </summary>
internal static partial class ConsolePages
{
    public const string Usage = """
          --console-pages N      instead of the load run: time every web console page on a store of N records (both
                                 shapes of --console-queries: one account; 1,000 accounts), seeded once into the temp
                                 folder or reused; with --out FILE (default BenchmarkDotNet.Artifacts/load-harness/console-pages.md)
        """;

    public const string DefaultOutput = "BenchmarkDotNet.Artifacts/load-harness/console-pages.md";

    /// <summary>Issue 13's bound for a page.</summary>
    private const double BudgetMs = 200;

    private const int Warmups = 2;
    private const int Timed = 20;

    private static readonly (string Name, SeedShape Shape)[] Shapes = [("one-account", SeedShape.OneAccount), ("spread", SeedShape.Spread)];

    public static async Task<int> RunAsync(int records, string output)
    {
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"# Console pages at {records:N0} records");
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture,
            $"Each URL: {Warmups} warm-up GETs, then {Timed} timed GETs one after another (request sent to body read), with the signed-in session's cookie. Over {BudgetMs:0} ms is marked **OVER**.");
        var failures = 0;
        foreach (var (name, shape) in Shapes)
        {
            var clock = Stopwatch.StartNew();
            var seeded = MillionRecordStore.SeedOrReuse(name, records, shape);
            Console.Error.WriteLine($"{name}: store ready in {clock.Elapsed.TotalSeconds:F1} s ({seeded.Path}; seeding took {seeded.Elapsed.TotalSeconds:F1} s)");
            var rows = await RunShapeAsync(name, seeded);
            failures += rows.Count(row => row.Status != HttpStatusCode.OK);
            report.AppendLine();
            report.AppendLine(CultureInfo.InvariantCulture, $"## {name}: {seeded.Records:N0} records, {seeded.AccountIds.Count:N0} account(s)");
            report.AppendLine();
            report.AppendLine("| Console | Page | URL | Status | Body (bytes) | Median (ms) | Max (ms) | |");
            report.AppendLine("|---|---|---|---|---|---|---|---|");
            foreach (var row in rows)
            {
                var mark = row.Median > BudgetMs ? "**OVER 200 ms**" : row.Max > BudgetMs ? "max over 200 ms" : string.Empty;
                var status = row.Status == HttpStatusCode.OK ? "200" : $"**{(int)row.Status}**";
                report.AppendLine(CultureInfo.InvariantCulture,
                    $"| {row.Console} | {row.Page} | `{row.Url}` | {status} | {row.Bytes:N0} | {row.Median:F1} | {row.Max:F1} | {mark} |");
            }
        }

        var text = report.ToString();
        Console.WriteLine(text);
        var directory = Path.GetDirectoryName(Path.GetFullPath(output));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        await File.WriteAllTextAsync(output, text);
        Console.Error.WriteLine($"Report written to {Path.GetFullPath(output)}");
        return failures == 0 ? 0 : 1;
    }

    private static async Task<List<PageTiming>> RunShapeAsync(string name, SeededStore seeded)
    {
        using var folder = new TempFolder($"meteragent-console-pages-{name}-");
        var clock = Stopwatch.StartNew();
        File.Copy(seeded.Path, folder.DbPath);
        Console.Error.WriteLine($"{name}: copied the store in {clock.Elapsed.TotalSeconds:F1} s");

        var account = seeded.AccountIds[0];
        var deep = DeepIds(folder.DbPath, account);
        var key = NoteKeyPair.Generate("meteragent.bench/console-pages");
        var adminToken = "console-pages-" + Convert.ToHexString(Guid.NewGuid().ToByteArray());
        var proxyPort = FreePort.Next();
        var managementPort = FreePort.Next();
        var settings = new Dictionary<string, string?>
        {
            ["MeterAgent:ProxyPort"] = proxyPort.ToString(CultureInfo.InvariantCulture),
            ["MeterAgent:ManagementPort"] = managementPort.ToString(CultureInfo.InvariantCulture),
            ["MeterAgent:AdminToken"] = adminToken,

            // Nothing is proxied here; the clusters only need an address.
            ["MeterAgent:Upstreams:openai:ApiKey"] = "unused-upstream-key",
            ["MeterAgent:Upstreams:anthropic:ApiKey"] = "unused-upstream-key",
            ["ReverseProxy:Clusters:openai:Destinations:primary:Address"] = "http://127.0.0.1:9/",
            ["ReverseProxy:Clusters:anthropic:Destinations:primary:Address"] = "http://127.0.0.1:9/",
            ["Store:Path"] = folder.DbPath,
            ["Store:Synchronous"] = "Normal",
            ["Attestation:SigningKeyPath"] = folder.Write("log.skey", key.SignerKey),
            ["Attestation:ReadToken"] = "console-pages-read-token-unused",
            ["Logging:LogLevel:Default"] = "Warning",
        };

        clock.Restart();
        var agent = MeterAgentHost.Build([], builder => builder.AddInMemoryCollection(settings));
        try
        {
            await agent.StartAsync();
            Console.Error.WriteLine($"{name}: agent started in {clock.Elapsed.TotalSeconds:F1} s");
            var management = $"http://127.0.0.1:{managementPort}";
            var client = $"http://127.0.0.1:{proxyPort}";
            using var operatorConsole = Browser(management);
            using var enterpriseConsole = Browser(client);
            await SignInAsync(operatorConsole, "token", adminToken);
            await SignInAsync(enterpriseConsole, "key", await IssueKeyAsync(management, adminToken, account));

            // The first checkpoint over the whole log (the tree catches up over every entry once): before any timing.
            clock.Restart();
            using (var first = await operatorConsole.GetAsync(new Uri("/console/log", UriKind.Relative)))
            {
                Console.Error.WriteLine($"{name}: first /console/log {(int)first.StatusCode} in {clock.Elapsed.TotalSeconds:F1} s (the log tree's catch-up)");
            }

            var timings = new List<PageTiming>();
            foreach (var (console, page, url) in Urls(seeded, account, deep))
            {
                var http = console == "operator" ? operatorConsole : enterpriseConsole;
                var timing = await TimeAsync(http, console, page, url);
                timings.Add(timing);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name} {console,-10} {(int)timing.Status} {timing.Median,8:F1} ms  max {timing.Max,8:F1} ms  {timing.Bytes,8} B  {url}"));
            }

            return timings;
        }
        finally
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await agent.StopAsync(timeout.Token);
            await agent.DisposeAsync();
            SqliteConnection.ClearAllPools();
        }
    }

    /// <summary>Ids deep in the lists, read from the file before the agent opens it: the 500,000th newest record of all, and the account's middle one.</summary>
    private static DeepRecords DeepIds(string path, string account)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        string? Scalar(string sql, params (string Name, object Value)[] parameters)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (parameterName, value) in parameters)
            {
                command.Parameters.AddWithValue(parameterName, value);
            }

            return command.ExecuteScalar() as string;
        }

        var total = long.Parse(Scalar("SELECT CAST(COUNT(*) AS TEXT) FROM usage_records;")!, CultureInfo.InvariantCulture);
        var ofAccount = long.Parse(Scalar("SELECT CAST(COUNT(*) AS TEXT) FROM usage_records WHERE account_id = @a;", ("@a", account))!, CultureInfo.InvariantCulture);
        return new DeepRecords(
            Scalar("SELECT id FROM usage_records ORDER BY id DESC LIMIT 1 OFFSET @n;", ("@n", total / 2))!,
            Scalar("SELECT id FROM usage_records WHERE account_id = @a ORDER BY id DESC LIMIT 1 OFFSET @n;", ("@a", account), ("@n", ofAccount / 2))!,
            Scalar("SELECT id FROM usage_records WHERE account_id = @a ORDER BY id DESC LIMIT 1;", ("@a", account))!,
            Scalar("SELECT id FROM usage_records WHERE account_id = @a ORDER BY id ASC LIMIT 1;", ("@a", account))!);
    }

    private static IEnumerable<(string Console, string Page, string Url)> Urls(SeededStore seeded, string account, DeepRecords deep)
    {
        var models = seeded.Models;
        string Time(DateTimeOffset value) => Uri.EscapeDataString(value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture));
        var nearNow = Time(seeded.To.AddDays(-1));
        var farBack = Time(seeded.From.AddDays(10));
        var a = Uri.EscapeDataString(account);

        yield return ("operator", "accounts", "/console");
        yield return ("operator", "account", $"/console/accounts/{a}");
        yield return ("operator", "usage", "/console/usage");
        yield return ("operator", "usage: account", $"/console/usage?account={a}");
        yield return ("operator", "usage: common model", $"/console/usage?model={models[0]}");
        yield return ("operator", "usage: rare model", $"/console/usage?model={seeded.RareModel}");
        yield return ("operator", "usage: common status", "/console/usage?status=completed");
        yield return ("operator", "usage: rare status", "/console/usage?status=rejected");
        yield return ("operator", "usage: unused status", "/console/usage?status=interrupted");
        yield return ("operator", "usage: from 1 day ago", $"/console/usage?from={nearNow}");
        yield return ("operator", "usage: to 1 day ago", $"/console/usage?to={nearNow}");
        yield return ("operator", "usage: from 80 days ago", $"/console/usage?from={farBack}");
        yield return ("operator", "usage: to 80 days ago", $"/console/usage?to={farBack}");
        yield return ("operator", "usage: before, mid-list", $"/console/usage?before={deep.MidAll}");
        yield return ("operator", "usage: account, rare model", $"/console/usage?account={a}&model={seeded.RareModel}");
        yield return ("operator", "usage: account, rare status", $"/console/usage?account={a}&status=rejected");
        yield return ("operator", "usage: account, to 80 days ago", $"/console/usage?account={a}&to={farBack}");
        yield return ("operator", "usage: account, before, mid-list", $"/console/usage?account={a}&before={deep.MidAccount}");
        yield return ("operator", "usage: model, status, 30 days", $"/console/usage?model={models[2]}&status=upstream_failed&from={Time(seeded.To.AddDays(-30))}");
        yield return ("operator", "log", "/console/log");

        yield return ("enterprise", "balance", "/console");
        yield return ("enterprise", "records", "/console/records");
        yield return ("enterprise", "records: common model", $"/console/records?model={models[0]}");
        yield return ("enterprise", "records: rare model", $"/console/records?model={seeded.RareModel}");
        yield return ("enterprise", "records: common status", "/console/records?status=completed");
        yield return ("enterprise", "records: rare status", "/console/records?status=rejected");
        yield return ("enterprise", "records: rare model, rare status", $"/console/records?model={seeded.RareModel}&status=upstream_failed");
        yield return ("enterprise", "records: before, mid-list", $"/console/records?before={deep.MidAccount}");
        yield return ("enterprise", "proof: newest record", $"/console/api/proof/{deep.NewestOfAccount}");
        yield return ("enterprise", "proof: oldest record", $"/console/api/proof/{deep.OldestOfAccount}");
    }

    private static async Task<PageTiming> TimeAsync(HttpClient http, string console, string page, string url)
    {
        var status = HttpStatusCode.OK;
        long bytes = 0;
        async Task<double> OnceAsync()
        {
            var clock = Stopwatch.StartNew();
            using var response = await http.GetAsync(new Uri(url, UriKind.Relative));
            var body = await response.Content.ReadAsByteArrayAsync();
            var elapsed = clock.Elapsed.TotalMilliseconds;
            if (response.StatusCode != HttpStatusCode.OK)
            {
                status = response.StatusCode;
            }

            bytes = body.Length;
            return elapsed;
        }

        for (var i = 0; i < Warmups; i++)
        {
            await OnceAsync();
        }

        var times = new double[Timed];
        for (var i = 0; i < times.Length; i++)
        {
            times[i] = await OnceAsync();
        }

        Array.Sort(times);
        return new PageTiming(console, page, url, status, bytes, (times[(Timed / 2) - 1] + times[Timed / 2]) / 2, times[^1]);
    }

    /// <summary>A client as a browser without scripts: cookies kept, redirects not followed (a 303 is checked, not chased).</summary>
    private static HttpClient Browser(string baseUrl) =>
        new(new SocketsHttpHandler { CookieContainer = new CookieContainer(), UseCookies = true, AllowAutoRedirect = false, UseProxy = false })
        {
            BaseAddress = new Uri(baseUrl),
            Timeout = TimeSpan.FromSeconds(60),
        };

    /// <summary>The sign-in form as a browser posts it: the page's antiforgery token with the secret; a 303 to /console is success.</summary>
    private static async Task SignInAsync(HttpClient http, string field, string secret)
    {
        var form = await http.GetStringAsync(new Uri("/console/signin", UriKind.Relative));
        var token = AntiforgeryInput().Match(form) is { Success: true } match
            ? WebUtility.HtmlDecode(match.Groups[1].Value)
            : throw new InvalidOperationException("The sign-in page has no antiforgery token.");
        using var content = new FormUrlEncodedContent([new("__RequestVerificationToken", token), new(field, secret)]);
        using var response = await http.PostAsync(new Uri("/console/signin", UriKind.Relative), content);
        if (response.StatusCode != HttpStatusCode.SeeOther || response.Headers.Location?.OriginalString != "/console")
        {
            throw new InvalidOperationException($"Console sign-in ({field}) answered {(int)response.StatusCode}, not a 303 to /console.");
        }
    }

    /// <summary>A client key of the seeded account, through the admin API (the seeder's keys are hashes of secrets nobody holds).</summary>
    private static async Task<string> IssueKeyAsync(string management, string adminToken, string account)
    {
        using var admin = new HttpClient { BaseAddress = new Uri(management), Timeout = TimeSpan.FromSeconds(30) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        using var response = await admin.PostAsync(new Uri($"/admin/accounts/{Uri.EscapeDataString(account)}/keys", UriKind.Relative), null);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"Issuing a key for {account} answered {(int)response.StatusCode}.");
        }

        using var issued = JsonDocument.Parse(body);
        return issued.RootElement.GetProperty("key").GetString() ?? throw new InvalidOperationException("The issued key has no secret.");
    }

    [GeneratedRegex(@"name=""__RequestVerificationToken""\s+value=""([^""]+)""", RegexOptions.CultureInvariant)]
    private static partial Regex AntiforgeryInput();

    private sealed record DeepRecords(string MidAll, string MidAccount, string NewestOfAccount, string OldestOfAccount);

    private sealed record PageTiming(string Console, string Page, string Url, HttpStatusCode Status, long Bytes, double Median, double Max);
}
