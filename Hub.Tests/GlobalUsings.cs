// What nearly every test file reads: the wire types, the test infrastructure (servers, clients, waits, ports) and xunit.
global using ChatStreaming.Contracts;
global using ChatStreaming.Hub.Tests.Infrastructure;
global using ChatStreaming.Shared;
global using Xunit;
