using ChatStreaming.Contracts;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ChatStreaming.Server.Auth;

internal static class AuthExtensions
{
    /// <summary>What an OpenID Connect issuer may sign with: RSA and ECDSA, never a shared secret or "none".</summary>
    private static readonly string[] AsymmetricAlgorithms =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    /// <summary>
    /// JWT bearer sign-in for the hub and the REST routes: OpenID Connect (<c>Auth:Authority</c>) or the shared key;
    /// the user is the token's <c>Auth:UserIdClaim</c>.
    /// </summary>
    public static IHostApplicationBuilder AddChatAuth(this IHostApplicationBuilder builder)
    {
        // Browsers put the bearer token in the query string (access_token): it is moved into the Authorization
        // header before the request is logged or authenticated, so no log ever holds it.
        builder.Services.AddSingleton<IHttpContextFactory, Security.QueryTokenHttpContextFactory>();
        var services = builder.Services;
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        services.AddSingleton<IUserIdProvider, SubjectUserIdProvider>();
        services.AddHttpContextAccessor();
        services.AddScoped<CurrentUser>();

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<AuthOptions>>((jwt, auth) =>
            {
                var o = auth.Value;
                jwt.MapInboundClaims = false;
                if (!string.IsNullOrEmpty(o.Authority))
                {
                    // OpenID Connect: the issuer and its signing keys come from {Authority}/.well-known/openid-configuration;
                    // the library caches them, and refetches when a token names a key it does not know (rotation).
                    jwt.Authority = o.Authority;
                    jwt.Audience = o.Audience;
                    jwt.RequireHttpsMetadata = o.RequireHttpsMetadata;
                    jwt.TokenValidationParameters = new TokenValidationParameters
                    {
                        ValidAudience = o.Audience,
                        ValidAlgorithms = AsymmetricAlgorithms,
                        NameClaimType = JwtRegisteredClaimNames.Name,
                        ClockSkew = TimeSpan.FromSeconds(30),
                    };
                    return;
                }

                jwt.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = AuthOptions.SharedKeyIssuer,
                    ValidAudience = AuthOptions.SharedKeyAudience,
                    IssuerSigningKey = TokenKeys.SigningKey(o),
                    ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                    NameClaimType = JwtRegisteredClaimNames.Name,
                    ClockSkew = TimeSpan.FromSeconds(30),
                };
            });
        services.AddAuthorization();
        return builder;
    }
}
