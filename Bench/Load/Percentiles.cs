namespace ChatStreaming.Bench.Load;

internal static class Percentiles
{
    /// <summary>The p-th percentile (0..100) of sorted values, nearest rank; NaN when empty.</summary>
    public static double Of(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];

    /// <summary>A percentile from cumulative Prometheus buckets (upper bound, count ≤ bound), linearly interpolated.</summary>
    public static double FromBuckets(IReadOnlyList<(double UpperBound, double Cumulative)> buckets, double p)
    {
        var total = buckets.Count == 0 ? 0 : buckets[^1].Cumulative;
        if (total <= 0)
        {
            return double.NaN;
        }

        var rank = p / 100 * total;
        double lowerBound = 0, lowerCount = 0;
        foreach (var (upper, cumulative) in buckets)
        {
            if (cumulative >= rank)
            {
                if (double.IsPositiveInfinity(upper))
                {
                    return lowerBound;
                }

                var inBucket = cumulative - lowerCount;
                return inBucket <= 0 ? upper : lowerBound + ((upper - lowerBound) * (rank - lowerCount) / inBucket);
            }

            lowerBound = upper;
            lowerCount = cumulative;
        }

        return lowerBound;
    }
}
