using System.Text.RegularExpressions;

namespace MeterAgent.Testing;

/// <summary>One vector selector in an expression: the metric name and the label names it matches on.</summary>
/// <param name="Metric">the metric name (a recorded series' name has colons)</param>
/// <param name="Labels">the label names of its matchers, e.g. surface in {surface=~"$surface"}</param>
public sealed record PromQlSelector(string Metric, IReadOnlyList<string> Labels);

/// <summary>
/// Just enough PromQL for tests of the repository's own dashboards and rules: the selectors an expression reads, the
/// operands of an alert expression that must have data whatever its thresholds, and Grafana's variables replaced by
/// values a plain Prometheus query takes. Not a parser: it lexes strings, label matchers and ranges away, and splits
/// at the top level only.
/// </summary>
public static partial class PromQl
{
    private static readonly HashSet<string> Aggregations =
    [
        "sum", "avg", "min", "max", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values", "group",
        "limitk", "limit_ratio",
    ];

    private static readonly HashSet<string> LabelListModifiers = ["by", "without", "on", "ignoring", "group_left", "group_right"];

    private static readonly HashSet<string> SetOperators = ["and", "or", "unless"];

    private static readonly HashSet<string> OtherKeywords = ["bool", "offset", "atan2", "inf", "nan"];

    private static readonly string[] Comparisons = ["==", "!=", ">=", "<=", ">", "<"];

    /// <summary>Every vector selector of <paramref name="expression"/>, in order.</summary>
    public static IReadOnlyList<PromQlSelector> Selectors(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var selectors = new List<PromQlSelector>();
        var i = 0;
        while (i < expression.Length)
        {
            var c = expression[i];
            if (c is '"' or '\'' or '`')
            {
                i = SkipString(expression, i);
            }
            else if (c == '#')
            {
                i = SkipLine(expression, i);
            }
            else if (c == '{')
            {
                // A selector without a metric name ({__name__=~"..."}): none here.
                i = SkipBalanced(expression, i, '{', '}');
            }
            else if (c == '[')
            {
                i = SkipBalanced(expression, i, '[', ']');
            }
            else if (char.IsDigit(c) || (c == '.' && i + 1 < expression.Length && char.IsDigit(expression[i + 1])))
            {
                i = SkipNumber(expression, i);
            }
            else if (c == '$')
            {
                i = SkipIdentifier(expression, i + 1);
            }
            else if (IsIdentifierStart(c))
            {
                var end = SkipIdentifier(expression, i);
                var word = expression[i..end];
                var next = SkipSpace(expression, end);
                var lower = word.ToLowerInvariant();
                if (LabelListModifiers.Contains(lower))
                {
                    i = next < expression.Length && expression[next] == '(' ? SkipBalanced(expression, next, '(', ')') : next;
                }
                else if (Aggregations.Contains(lower) || SetOperators.Contains(lower) || OtherKeywords.Contains(lower))
                {
                    i = end;
                }
                else if (next < expression.Length && expression[next] == '(')
                {
                    i = end; // A function: its arguments are read as they come.
                }
                else if (next < expression.Length && expression[next] == '{')
                {
                    var close = SkipBalanced(expression, next, '{', '}');
                    selectors.Add(new PromQlSelector(word, MatcherLabels(expression[(next + 1)..(close - 1)])));
                    i = close;
                }
                else
                {
                    selectors.Add(new PromQlSelector(word, []));
                    i = end;
                }
            }
            else
            {
                i++;
            }
        }

        return selectors;
    }

    /// <summary>The metric names <paramref name="expression"/> reads.</summary>
    public static IReadOnlySet<string> MetricNames(string expression) =>
        Selectors(expression).Select(s => s.Metric).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// The parts of <paramref name="expression"/> that must each return data for it to be able to fire: split at the
    /// top level at <c>and</c>, <c>or</c>, <c>unless</c> and the comparison operators, the vector-matching modifiers and
    /// <c>bool</c> dropped, the constant thresholds left out. <c>a / b &gt; 0.05 and c &gt; 0.1</c> gives <c>a / b</c>
    /// and <c>c</c>.
    /// </summary>
    public static IReadOnlyList<string> Operands(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var operands = new List<string>();
        AddOperands(expression, operands);
        return operands;
    }

    private static void AddOperands(string expression, List<string> operands)
    {
        var trimmed = Unwrap(StripLeadingModifiers(expression.Trim()));
        if (MetricNames(trimmed).Count == 0)
        {
            return; // A threshold.
        }

        var parts = SplitTopLevel(trimmed, atSetOperators: true);
        if (parts.Count == 1)
        {
            parts = SplitTopLevel(trimmed, atSetOperators: false);
        }

        if (parts.Count == 1)
        {
            operands.Add(trimmed);
            return;
        }

        foreach (var part in parts)
        {
            AddOperands(part, operands);
        }
    }

    /// <summary>
    /// A Grafana query as Prometheus takes it: <c>$__rate_interval</c> and <c>$__interval</c> become
    /// <paramref name="rateInterval"/>, <c>$__range</c> becomes <paramref name="range"/>, and every template variable
    /// the regex <c>.*</c> (what a multi-value variable set to All gives with <c>allValue: ".*"</c>).
    /// </summary>
    public static string SubstituteGrafanaVariables(string expression, string rateInterval = "1m", string range = "5m")
    {
        ArgumentNullException.ThrowIfNull(expression);
        return VariableReference().Replace(expression, match => match.Groups["name"].Value switch
        {
            "__rate_interval" or "__interval" => rateInterval,
            "__range" => range,
            _ => ".*",
        });
    }

    /// <summary>The template variables <paramref name="text"/> refers to (<c>$name</c>, <c>${name}</c>), Grafana's own <c>$__*</c> left out.</summary>
    public static IReadOnlySet<string> VariableReferences(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return VariableReference().Matches(text)
            .Select(m => m.Groups["name"].Value)
            .Where(name => !name.StartsWith("__", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);
    }

    [GeneratedRegex(@"\$\{?(?<name>[A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?\}?")]
    private static partial Regex VariableReference();

    private static List<string> MatcherLabels(string matchers)
    {
        var labels = new List<string>();
        var i = 0;
        while (i < matchers.Length)
        {
            var c = matchers[i];
            if (c is '"' or '\'' or '`')
            {
                i = SkipString(matchers, i);
            }
            else if (IsIdentifierStart(c))
            {
                var end = SkipIdentifier(matchers, i);
                labels.Add(matchers[i..end]);
                i = end;
            }
            else
            {
                i++;
            }
        }

        return labels;
    }

    private static List<string> SplitTopLevel(string expression, bool atSetOperators)
    {
        var parts = new List<string>();
        var start = 0;
        var i = 0;
        while (i < expression.Length)
        {
            var c = expression[i];
            if (c is '"' or '\'' or '`')
            {
                i = SkipString(expression, i);
            }
            else if (c == '#')
            {
                i = SkipLine(expression, i);
            }
            else if (c == '(')
            {
                i = SkipBalanced(expression, i, '(', ')');
            }
            else if (c == '{')
            {
                i = SkipBalanced(expression, i, '{', '}');
            }
            else if (c == '[')
            {
                i = SkipBalanced(expression, i, '[', ']');
            }
            else if (atSetOperators && IsIdentifierStart(c))
            {
                var end = SkipIdentifier(expression, i);
                if (SetOperators.Contains(expression[i..end].ToLowerInvariant()) && (i == 0 || !IsIdentifierPart(expression[i - 1])))
                {
                    parts.Add(expression[start..i]);
                    start = end;
                }

                i = end;
            }
            else if (!atSetOperators && Comparisons.FirstOrDefault(op => string.CompareOrdinal(expression, i, op, 0, op.Length) == 0) is { } comparison)
            {
                parts.Add(expression[start..i]);
                i += comparison.Length;
                start = i;
            }
            else
            {
                i++;
            }
        }

        parts.Add(expression[start..]);
        return parts;
    }

    /// <summary>Drops a leading <c>bool</c>, <c>on(...)</c>, <c>ignoring(...)</c>, <c>group_left(...)</c>, <c>group_right(...)</c>.</summary>
    private static string StripLeadingModifiers(string expression)
    {
        while (true)
        {
            if (expression.Length == 0 || !IsIdentifierStart(expression[0]))
            {
                return expression;
            }

            var end = SkipIdentifier(expression, 0);
            var word = expression[..end].ToLowerInvariant();
            if (word == "bool")
            {
                expression = expression[end..].TrimStart();
                continue;
            }

            if (word is "on" or "ignoring" or "group_left" or "group_right")
            {
                var next = SkipSpace(expression, end);
                var after = next < expression.Length && expression[next] == '(' ? SkipBalanced(expression, next, '(', ')') : next;
                expression = expression[after..].TrimStart();
                continue;
            }

            return expression;
        }
    }

    /// <summary>(a) → a, as often as the outer parentheses enclose the whole expression.</summary>
    private static string Unwrap(string expression)
    {
        while (expression.Length > 1 && expression[0] == '(' && SkipBalanced(expression, 0, '(', ')') == expression.Length)
        {
            expression = expression[1..^1].Trim();
        }

        return expression;
    }

    private static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c is '_' or ':';

    private static bool IsIdentifierPart(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or ':';

    private static int SkipIdentifier(string s, int i)
    {
        while (i < s.Length && IsIdentifierPart(s[i]))
        {
            i++;
        }

        return i;
    }

    private static int SkipNumber(string s, int i)
    {
        while (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] == '.'))
        {
            i++;
        }

        return i;
    }

    private static int SkipSpace(string s, int i)
    {
        while (i < s.Length && char.IsWhiteSpace(s[i]))
        {
            i++;
        }

        return i;
    }

    private static int SkipLine(string s, int i)
    {
        var end = s.IndexOf('\n', i);
        return end < 0 ? s.Length : end + 1;
    }

    /// <summary>The index after the quote that closes the string opening at <paramref name="i"/>.</summary>
    private static int SkipString(string s, int i)
    {
        var quote = s[i];
        i++;
        while (i < s.Length && s[i] != quote)
        {
            i += s[i] == '\\' && quote != '`' ? 2 : 1;
        }

        return Math.Min(i + 1, s.Length);
    }

    /// <summary>The index after the bracket that closes the one at <paramref name="i"/>.</summary>
    private static int SkipBalanced(string s, int i, char open, char close)
    {
        var depth = 0;
        while (i < s.Length)
        {
            var c = s[i];
            if (c is '"' or '\'' or '`')
            {
                i = SkipString(s, i);
                continue;
            }

            if (c == open)
            {
                depth++;
            }
            else if (c == close && --depth == 0)
            {
                return i + 1;
            }

            i++;
        }

        throw new FormatException($"unbalanced {open} in: {s}");
    }
}
