namespace ChatStreaming.Contracts;

public sealed record DevTokenRequest(string UserName);
