using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace ChatStreaming.Server.Auth;

internal static class TokenKeys
{
    public static SymmetricSecurityKey SigningKey(AuthOptions options) =>
        new(Encoding.UTF8.GetBytes(string.IsNullOrEmpty(options.SigningKey) ? AuthOptions.DevelopmentSigningKey : options.SigningKey));
}
