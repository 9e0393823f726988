using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MeterAgent.Testing;

/// <summary>
/// A logger provider that keeps every line any logger writes, at every level, as a console sink would print it: the
/// category, the formatted message, each scope's text and state, every structured value, and the whole exception.
/// Add it with <see cref="AddTo"/> and set Logging:LogLevel:Default to Trace to see everything.
/// </summary>
public sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public ConcurrentQueue<string> Lines { get; } = new();

    /// <summary>Registers this capture with the agent's logging (TestAgent's <c>services</c> argument).</summary>
    public void AddTo(IServiceCollection services) => services.AddSingleton<ILoggerProvider>(this);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => capture._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = new System.Text.StringBuilder();
            line.Append(logLevel).Append(' ').Append(category).Append('[').Append(eventId.Id).Append("] ").Append(formatter(state, exception));
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                foreach (var (name, value) in values)
                {
                    line.Append(" {").Append(name).Append('=').Append(value).Append('}');
                }
            }

            capture._scopes.ForEachScope(
                (scope, text) =>
                {
                    text.Append(" => ").Append(scope);
                    if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                    {
                        foreach (var (name, value) in pairs)
                        {
                            text.Append(" {").Append(name).Append('=').Append(value).Append('}');
                        }
                    }
                },
                line);
            if (exception is not null)
            {
                line.Append(" !! ").Append(exception);
            }

            capture.Lines.Enqueue(line.ToString());
        }
    }
}
