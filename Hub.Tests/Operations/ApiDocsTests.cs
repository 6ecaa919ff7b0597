using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ChatStreaming.Hub.Tests.Operations;

/// <summary>
/// The generated OpenAPI document covers every REST route of the contract (the REST table of docs/protocol.md, which
/// the hand-written docs and external clients follow) with the bearer scheme and each route's responses.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed partial class ApiDocsTests(ChatCluster cluster)
{
    [Fact]
    public async Task EveryRouteOfTheContractIsInTheOpenApiDocumentWithItsResponses()
    {
        using var http = new HttpClient();
        using var document = JsonDocument.Parse(await http.GetStringAsync($"{cluster.A}/openapi/v1.json"));
        var root = document.RootElement;
        var protocol = await File.ReadAllTextAsync(Path.Combine(BuildOutput.Root, "docs", "protocol.md"));
        var routes = RestRoute().Matches(protocol).Select(m => (Method: m.Groups[1].Value.ToLowerInvariant(), Path: m.Groups[2].Value)).ToList();
        routes.AddRange([("get", "/metrics")]);

        Assert.True(routes.Count >= 10, $"the REST table was not found: {routes.Count} routes");
        Assert.Equal("bearer", root.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer").GetProperty("scheme").GetString());
        var paths = root.GetProperty("paths");
        foreach (var (method, path) in routes)
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is not in the OpenAPI document (paths: {string.Join(", ", paths.EnumerateObject().Select(p => p.Name))})");
            Assert.True(item.TryGetProperty(method, out var operation), $"{method.ToUpperInvariant()} {path} is not in the OpenAPI document");
            var responses = operation.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToHashSet();
            Assert.Contains("200", responses);
            var open = path.StartsWith("/health", StringComparison.Ordinal) || path is "/metrics" or "/api/auth/dev-token" or ChatHubPaths.ClientSettings;
            if (!open)
            {
                Assert.True(responses.IsSupersetOf(["401", "429"]), $"{path}: {string.Join(", ", responses)}");
                Assert.Equal("Bearer", operation.GetProperty("security")[0].EnumerateObject().Single().Name);
            }

            if (path.Contains("{id}", StringComparison.Ordinal) || path == "/api/auth/dev-token")
            {
                Assert.Contains("404", responses);
            }

            if (path == "/api/auth/dev-token")
            {
                Assert.True(responses.IsSupersetOf(["400", "429"]), $"{path}: {string.Join(", ", responses)}");
            }
        }

        Assert.Contains("503", paths.GetProperty("/health/ready").GetProperty("get").GetProperty("responses").EnumerateObject().Select(r => r.Name));
        // Development serves a browsable reference of the same document.
        var scalar = await http.GetAsync($"{cluster.A}/scalar");
        Assert.Equal(HttpStatusCode.OK, scalar.StatusCode);
        Assert.Contains("openapi/v1.json", await scalar.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    // "| `GET /api/conversations/{id}/messages?before=&limit=` | …": the method and the path without its query.
    [GeneratedRegex(@"^\| `(GET|POST|PUT|PATCH|DELETE) (/[^`?\s]*)", RegexOptions.Multiline)]
    private static partial Regex RestRoute();
}
