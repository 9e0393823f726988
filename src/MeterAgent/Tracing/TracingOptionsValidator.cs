using Microsoft.Extensions.Options;

namespace MeterAgent.Tracing;

/// <summary>Fails start-up naming the bad <c>Tracing:*</c> key, rather than sampling or exporting something else.</summary>
internal sealed class TracingOptionsValidator : IValidateOptions<TracingOptions>
{
    public ValidateOptionsResult Validate(string? name, TracingOptions options)
    {
        var failures = new List<string>();
        if (!(options.SampleRatio is >= 0 and <= 1))
        {
            failures.Add($"{TracingOptions.Section}:SampleRatio must be from 0 to 1 (got {options.SampleRatio}).");
        }

        if (!string.Equals(options.Exporter, TracingOptions.ExporterOtlp, StringComparison.OrdinalIgnoreCase)
            && !string.Equals(options.Exporter, TracingOptions.ExporterNone, StringComparison.OrdinalIgnoreCase))
        {
            failures.Add($"{TracingOptions.Section}:Exporter must be '{TracingOptions.ExporterOtlp}' or '{TracingOptions.ExporterNone}' (got '{options.Exporter}').");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
