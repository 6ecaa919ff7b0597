using ChatStreaming.Contracts;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace ChatStreaming.Server.Security;

/// <summary>
/// Browsers cannot set headers on WebSocket and SSE requests, so the SignalR JavaScript client sends the bearer token as
/// the <c>access_token</c> query parameter. Before anything sees the request — the hosting request log included,
/// whatever log level any provider is set to — the token is taken out of the query string: on the hub's path it becomes
/// the request's <c>Authorization: Bearer</c> header (unless one is set), elsewhere it is dropped. No URL that is logged,
/// traced or reported as an error ever carries it.
/// </summary>
internal sealed class QueryTokenHttpContextFactory(IServiceProvider services) : IHttpContextFactory
{
    private const string TokenParameter = "access_token";
    private readonly DefaultHttpContextFactory inner = new(services);

    public HttpContext Create(IFeatureCollection featureCollection)
    {
        var context = inner.Create(featureCollection);
        var request = context.Request;
        if (request.QueryString.HasValue && request.Query.TryGetValue(TokenParameter, out var token))
        {
            request.QueryString = QueryString.Create(request.Query.Where(p => p.Key != TokenParameter));
            if (request.Path.StartsWithSegments(ChatHubPaths.Hub) && StringValues.IsNullOrEmpty(request.Headers.Authorization) && !StringValues.IsNullOrEmpty(token))
            {
                request.Headers.Authorization = $"Bearer {token}";
            }
        }

        return context;
    }

    public void Dispose(HttpContext httpContext) => inner.Dispose(httpContext);
}
