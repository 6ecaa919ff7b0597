using System.Globalization;
using System.Text.RegularExpressions;

namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>Reads a hub's <c>/metrics</c> scrape (Prometheus text).</summary>
internal static partial class Prometheus
{
    /// <summary>The sum of the samples of <paramref name="series"/> (a name, optionally with {labels}) in a scrape; 0 when absent.</summary>
    public static double Value(string scrape, string series)
    {
        var brace = series.IndexOf('{', StringComparison.Ordinal);
        var name = brace < 0 ? series : series[..brace];
        var labels = brace < 0 ? "" : series[(brace + 1)..^1];
        return scrape.Split('\n')
            .Where(l => l.StartsWith(name, StringComparison.Ordinal) && (l.Length == name.Length || l[name.Length] is ' ' or '{'))
            .Where(l => labels.Length == 0 || l.Contains(labels, StringComparison.Ordinal))
            .Select(l => Sample().Match(l))
            .Where(m => m.Success)
            .Sum(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"\s(-?[0-9.eE+-]+)(\s+\d+)?$")]
    private static partial Regex Sample();
}
