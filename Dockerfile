# Multi-stage build of the Hub (with the Worker, the browser page and the Blazor app). Not exercised by CI here.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
RUN apt-get update && apt-get install -y --no-install-recommends npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The image's assemblies carry the commit in their informational version (local builds leave it out: Directory.Build.props).
RUN dotnet publish Hub/Hub.csproj -c Release -p:IncludeSourceRevisionInInformationalVersion=true -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
USER $APP_UID
ENV ASPNETCORE_URLS=http://+:8080
EXPOSE 8080
ENTRYPOINT ["dotnet", "ChatStreaming.Hub.dll"]
