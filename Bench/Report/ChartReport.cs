using System.Globalization;
using System.Text;

namespace ChatStreaming.Bench.Report;

/// <summary>An SVG of each pipeline's delivery latency distribution (cumulative, log scale), drawn by hand.</summary>
internal static class ChartReport
{
    private const int Width = 760, Height = 420, Left = 60, Right = 20, Top = 40, Bottom = 50;
    private static readonly string[] Colors = ["#d62728", "#1f77b4", "#9467bd", "#2ca02c"];

    public static string Write(RunReport report)
    {
        const double minMs = 0.1, maxMs = 2000;
        double X(double ms) => Left + ((Math.Log10(Math.Clamp(ms, minMs, maxMs)) - Math.Log10(minMs)) / (Math.Log10(maxMs) - Math.Log10(minMs)) * (Width - Left - Right));
        double Y(double share) => Top + ((1 - share) * (Height - Top - Bottom));
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{Height}" font-family="sans-serif" font-size="12">""");
        svg.Append(CultureInfo.InvariantCulture, $"""<rect width="{Width}" height="{Height}" fill="white"/>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Left}" y="22" font-size="14" font-weight="bold">Chunk delivery latency (model delta → client; redis: cross-instance), steady window, {report.Settings.Streams} streams × {report.Settings.TokensPerSecond} tokens/s</text>""");
        foreach (var ms in new[] { 0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000 })
        {
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{X(ms):0.#}" y1="{Top}" x2="{X(ms):0.#}" y2="{Height - Bottom}" stroke="#ddd"/><text x="{X(ms):0.#}" y="{Height - Bottom + 16}" text-anchor="middle">{ms} ms</text>""");
        }

        foreach (var share in new[] { 0, 0.25, 0.5, 0.75, 0.95, 1 })
        {
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{Left}" y1="{Y(share):0.#}" x2="{Width - Right}" y2="{Y(share):0.#}" stroke="#eee"/><text x="{Left - 6}" y="{Y(share) + 4:0.#}" text-anchor="end">{share * 100:0}%</text>""");
        }

        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{(Width + Left) / 2}" y="{Height - 12}" text-anchor="middle">latency (log scale); y: share of chunks delivered within it</text>""");
        var index = 0;
        foreach (var result in report.Results)
        {
            var color = Colors[index % Colors.Length];
            var points = Enumerable.Range(0, 201).Select(i => i / 2.0).Select(p => (ms: result.H(Math.Max(p, 0.01)), share: p / 100))
                .Where(p => !double.IsNaN(p.ms)).Select(p => $"{X(p.ms):0.#},{Y(p.share):0.#}");
            svg.Append(CultureInfo.InvariantCulture, $"""<polyline fill="none" stroke="{color}" stroke-width="2" points="{string.Join(' ', points)}"/>""");
            svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{Width - 300}" y="{Top + 10 + (index * 18)}" width="12" height="12" fill="{color}"/><text x="{Width - 282}" y="{Top + 20 + (index * 18)}">{result.Pipeline}: p50 {result.H(50):0.##} ms, p99 {result.H(99):0.##} ms</text>""");
            index++;
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }
}
