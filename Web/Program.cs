using System.Net.Http.Json;
using ChatStreaming.Contracts;
using ChatStreaming.Web;
using Microsoft.AspNetCore.Components.WebAssembly.Hosting;

var builder = WebAssemblyHostBuilder.CreateDefault(args);
builder.RootComponents.Add<App>("#blazor-app");
var hub = HubAddress.From(builder.HostEnvironment.BaseAddress);
builder.Services.AddScoped(_ => new HttpClient { BaseAddress = hub });
var host = builder.Build();
// Which remote images answers may show (Chat:Clients:ImageSources); any other is shown as a link.
using (var http = new HttpClient { BaseAddress = hub })
{
    try
    {
        var settings = await http.GetFromJsonAsync<ClientSettings>(ChatHubPaths.ClientSettings);
        Markdown.AllowImagesFrom(hub, settings?.ImageSources ?? []);
    }
    catch (Exception ex) when (ex is HttpRequestException or System.Text.Json.JsonException)
    {
        Markdown.AllowImagesFrom(hub, []); // unknown: every remote image is a link
    }
}

await host.RunAsync();
