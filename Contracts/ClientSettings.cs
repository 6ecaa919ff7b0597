namespace ChatStreaming.Contracts;

/// <summary>
/// What the browser apps may load (<see cref="ChatHubPaths.ClientSettings"/>): the origins that answers' Markdown images
/// may be shown from besides the page's own (<c>Chat:Clients:ImageSources</c>); any other remote image is shown as a link.
/// </summary>
public sealed record ClientSettings(IReadOnlyList<string> ImageSources);
