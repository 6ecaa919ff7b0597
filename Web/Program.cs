using ChatStreaming.Web;
using Microsoft.AspNetCore.Components.WebAssembly.Hosting;

var builder = WebAssemblyHostBuilder.CreateDefault(args);
builder.RootComponents.Add<App>("#blazor-app");
builder.Services.AddScoped(_ => new HttpClient { BaseAddress = HubAddress.From(builder.HostEnvironment.BaseAddress) });
await builder.Build().RunAsync();
