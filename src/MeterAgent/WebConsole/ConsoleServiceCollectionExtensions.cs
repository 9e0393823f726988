using MeterAgent.Ledger.Hosting;
using MeterAgent.Ledger.Redis;
using MeterAgent.Ledger.Sqlite;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace MeterAgent.WebConsole;

/// <summary>The web console's services: Razor components rendered on the server, antiforgery, sessions and their keys.</summary>
internal static class ConsoleServiceCollectionExtensions
{
    /// <summary>The application name the data protection keys are bound to: every replica and every restart the same.</summary>
    public const string ApplicationName = "MeterAgent";

    public static IServiceCollection AddWebConsole(this IServiceCollection services, IConfiguration configuration)
    {
        // Static server rendering only: no circuit, no WebAssembly, no blazor.web.js.
        services.AddRazorComponents();
        services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "meteragent_console_antiforgery";
            options.Cookie.Path = ConsoleEndpoints.Root;
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.FormFieldName = ConsoleEndpoints.AntiforgeryField;
        });
        services.AddAuthentication().AddConsoleCookies();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, ConsoleListenerPolicy>());

        // Sessions and antiforgery tokens are sealed with the data protection keys: they must outlive a restart (a
        // session survives it) and, in distributed mode, be the same on every replica (a session opened on one is
        // read on another).
        var dataProtection = services.AddDataProtection().SetApplicationName(ApplicationName);
        var kind = configuration.GetSection(StoreOptions.SectionName)[nameof(StoreOptions.Kind)] ?? StoreOptions.DefaultKind;
        if (string.Equals(kind.Trim(), "redis", StringComparison.OrdinalIgnoreCase))
        {
            services.AddOptions<KeyManagementOptions>().Configure<IServiceProvider>((options, provider) =>
            {
                var prefix = provider.GetRequiredService<IOptions<RedisStoreOptions>>().Value.KeyPrefix;
                options.XmlRepository = new RedisXmlRepository(
                    () => provider.GetRequiredService<IConnectionMultiplexer>().GetDatabase(), prefix + "console:data-protection-keys");
            });
        }
        else
        {
            var storePath = configuration.GetSection(SqliteStoreOptions.SectionName)[nameof(SqliteStoreOptions.Path)] ?? new SqliteStoreOptions().Path;
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(ConsoleKeyFolder.Prepare(storePath)));
        }

        return services;
    }
}

/// <summary>
/// The embedded store's data protection keys, in a folder beside the SQLite file (<c>&lt;Store:Path&gt;.console-keys/</c>):
/// created owner-only (0700) on Unix as the store's own folder is, since whoever reads the keys can forge a session.
/// </summary>
internal static class ConsoleKeyFolder
{
    private const UnixFileMode OwnerFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public static string Prepare(string storePath)
    {
        var folder = Path.GetFullPath(storePath) + ".console-keys";
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else if (!Directory.Exists(folder))
        {
            var parent = Path.GetDirectoryName(folder);
            if (!string.IsNullOrEmpty(parent) && !Directory.Exists(parent))
            {
                Directory.CreateDirectory(parent, OwnerFolder);
            }

            Directory.CreateDirectory(folder, OwnerFolder);
        }
        else if ((File.GetUnixFileMode(folder) & ~OwnerFolder) != 0)
        {
            File.SetUnixFileMode(folder, OwnerFolder);
        }

        return folder;
    }
}
