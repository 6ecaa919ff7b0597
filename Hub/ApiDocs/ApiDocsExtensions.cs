using ChatStreaming.Contracts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace ChatStreaming.Server.ApiDocs;

/// <summary>
/// The REST API's OpenAPI document, generated from the mapped routes (Microsoft.AspNetCore.OpenApi) at
/// <see cref="DocumentPath"/>: the bearer scheme, and every route's responses (the typed results give 200/400/404;
/// this adds 401 to the routes that need a token and 429 to the rate-limited ones), plus the health and metrics routes,
/// which are not route handlers. In Development a browsable reference (Scalar) is at <c>/scalar</c>.
/// </summary>
internal static class ApiDocsExtensions
{
    public const string DocumentPath = "/openapi/v1.json";
    private const string Bearer = "Bearer";

    public static IHostApplicationBuilder AddChatApiDocs(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer(DescribeAsync);
            options.AddOperationTransformer(DescribeResponsesAsync);
        });
        return builder;
    }

    public static WebApplication MapChatApiDocs(this WebApplication app)
    {
        app.MapOpenApi(DocumentPath);
        if (app.Environment.IsDevelopment())
        {
            app.MapScalarApiReference("/scalar", options => options.WithOpenApiRoutePattern(DocumentPath).WithTitle("ChatStreaming API"));
        }

        return app;
    }

    private static Task DescribeAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "ChatStreaming",
            Version = "v1",
            Description = "REST reads of the caller's conversations, search, models and usage. Streaming is the SignalR hub at "
                + $"{ChatHubPaths.Hub} (see docs/protocol.md); these routes are its companions.",
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "A token of the configured issuer (Auth:Authority), or a development token from POST /api/auth/dev-token.",
        };
        document.Paths ??= [];
        AddPath(document, ChatHubPaths.HealthLive, "Liveness: 200 while the process runs.", ("200", "Alive"));
        AddPath(document, ChatHubPaths.HealthReady, "Readiness: 200 when Redis and Postgres answer and the instance takes work.",
            ("200", "Ready"), ("503", "Not ready: Redis or Postgres unreachable, the generator queue full, or draining"));
        AddPath(document, "/metrics", "Prometheus scrape of the app's and the built-in meters (text exposition format).", ("200", "The metrics"));
        return Task.CompletedTask;
    }

    private static void AddPath(OpenApiDocument document, string path, string summary, params (string Status, string Description)[] responses)
    {
        var operation = new OpenApiOperation { Summary = summary, Tags = new HashSet<OpenApiTagReference> { new("Operations", document) }, Responses = [] };
        foreach (var (status, description) in responses)
        {
            operation.Responses[status] = new OpenApiResponse { Description = description };
        }

        var item = new OpenApiPathItem();
        item.AddOperation(HttpMethod.Get, operation);
        document.Paths[path] = item;
    }

    private static Task DescribeResponsesAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        operation.Responses ??= [];
        if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
        {
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Bearer, context.Document)] = [] });
            operation.Responses.TryAdd("401", new OpenApiResponse { Description = "No valid bearer token" });
        }

        if (metadata.OfType<EnableRateLimitingAttribute>().Any())
        {
            operation.Responses.TryAdd("429", new OpenApiResponse
            {
                Description = "Too many requests (Chat:RestRequestsPerMinutePerUser, Auth:DevTokensPerMinute): the Retry-After header says when to try again",
            });
        }

        return Task.CompletedTask;
    }
}
