namespace ChatStreaming.Contracts;

public sealed record DevTokenResponse(string AccessToken, DateTimeOffset ExpiresAt);
