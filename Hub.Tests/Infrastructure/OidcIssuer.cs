using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>
/// A real OpenID Connect issuer on loopback, as far as a resource server sees one: a discovery document and a JWKS over
/// HTTP, and RS256 tokens signed with its current key. <see cref="RotateKey"/> replaces the key (the JWKS then lists only
/// the new one), as an identity provider's key rotation does.
/// </summary>
internal sealed class OidcIssuer : IAsyncDisposable
{
    private static readonly string[] Rs256 = ["RS256"];
    private static readonly string[] Code = ["code"];
    private static readonly string[] Public = ["public"];
    private readonly WebApplication app;
    private volatile SigningKey current = SigningKey.Create();

    private OidcIssuer(WebApplication app) => this.app = app;

    public string Url { get; private set; } = "";

    public static async Task<OidcIssuer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var issuer = new OidcIssuer(builder.Build());
        issuer.app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = issuer.Url,
            ["jwks_uri"] = $"{issuer.Url}/jwks",
            ["id_token_signing_alg_values_supported"] = Rs256,
            ["response_types_supported"] = Code,
            ["subject_types_supported"] = Public,
        }));
        issuer.app.MapGet("/jwks", () => Results.Json(new { keys = new[] { issuer.current.Jwk() } }));
        await issuer.app.StartAsync();
        issuer.Url = issuer.app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single().TrimEnd('/');
        return issuer;
    }

    /// <summary>A token for <paramref name="audience"/> with these claims, signed with the current key (naming <paramref name="issuer"/> if given).</summary>
    public string Token(string audience, IReadOnlyDictionary<string, string> claims, string? issuer = null)
    {
        var now = DateTimeOffset.UtcNow;
        var payload = new Dictionary<string, object>(claims.ToDictionary(c => c.Key, c => (object)c.Value))
        {
            ["iss"] = issuer ?? Url,
            ["aud"] = audience,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = now.AddMinutes(-1).ToUnixTimeSeconds(),
            ["exp"] = now.AddMinutes(30).ToUnixTimeSeconds(),
        };
        return current.Sign(payload);
    }

    /// <summary>A new signing key; the JWKS lists only it from now on.</summary>
    public void RotateKey() => current = SigningKey.Create();

    public async ValueTask DisposeAsync() => await app.DisposeAsync();

    /// <summary>An RSA key with its key id.</summary>
    private sealed class SigningKey(RSA rsa, string id)
    {
        public string Id { get; } = id;

        public static SigningKey Create() => new(RSA.Create(2048), Guid.NewGuid().ToString("N")[..12]);

        public object Jwk()
        {
            var p = rsa.ExportParameters(includePrivateParameters: false);
            return new { kty = "RSA", use = "sig", alg = "RS256", kid = Id, n = Base64Url(p.Modulus!), e = Base64Url(p.Exponent!) };
        }

        public string Sign(IReadOnlyDictionary<string, object> payload)
        {
            var header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new { alg = "RS256", typ = "JWT", kid = Id }));
            var body = Base64Url(JsonSerializer.SerializeToUtf8Bytes(payload));
            var signature = rsa.SignData(Encoding.ASCII.GetBytes($"{header}.{body}"), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            return $"{header}.{body}.{Base64Url(signature)}";
        }

        private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
