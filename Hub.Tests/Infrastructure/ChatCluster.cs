using System.Net.Http.Json;
using ChatStreaming.FakeOpenAI;
using Dapper;
using Npgsql;
using StackExchange.Redis;

namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>
/// The product as users run it: one real Redis, one real Postgres, two Hub processes (A and B) sharing them.
/// The simulated model streams <see cref="ResponseTokens"/> tokens at <see cref="TokensPerSecond"/>, so an answer
/// lasts long enough to join, replay and cancel mid-stream.
/// Its one parameter is the Redis: a single node (this class), or a six-node Redis Cluster
/// (<see cref="ChatOnRedisCluster"/>), so one test class runs against both (a class of the <c>redis-cluster</c>
/// collection derives from the single-node one and adds nothing but its fixture).
/// </summary>
public class ChatCluster : IAsyncLifetime
{
    private readonly bool onRedisCluster;

    public ChatCluster()
        : this(onRedisCluster: false)
    {
    }

    protected ChatCluster(bool onRedisCluster) => this.onRedisCluster = onRedisCluster;

    public const int ResponseTokens = 40;
    public const int TokensPerSecond = 40;

    private readonly List<HubInstance> instances = [];
    private readonly Dictionary<string, HubInstance> providerHubs = [];
    private FakeOpenAIServer? fakeModel;
    private HubInstance? longAnswerHub;
    private readonly List<HubInstance> catalogHubs = [];
    private readonly List<HubInstance> retired = [];
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>The single Redis node (tests that stop, pause or restart Redis run on it only).</summary>
    internal RedisServer Redis => redis ?? throw new InvalidOperationException("this cluster runs on a Redis Cluster: there is no single node to signal");

    private RedisServer? redis;

    /// <summary>The Redis Cluster (<see cref="ChatOnRedisCluster"/> only).</summary>
    internal RedisClusterServer? RedisCluster { get; private set; }

    private string RedisConnectionString => RedisCluster?.ConnectionString ?? Redis.ConnectionString;

    private RedisServer? spareRedis;

    /// <summary>
    /// A second Redis (started on first use, stopped with the fixture), for hubs that must not share the fixture's Redis
    /// with A and B (their sweeps would claim those hubs' answers). Tests of a collection run one at a time.
    /// </summary>
    internal async Task<RedisServer> SpareRedisAsync() => spareRedis ??= await RedisServer.StartAsync();

    /// <summary>
    /// A second database on the fixture's Postgres (created on first use), for hubs on <see cref="SpareRedisAsync"/>:
    /// hubs that share a database but not a Redis take each other's answers for lost ones (the stale-answer sweep).
    /// </summary>
    internal async Task<string> SpareDatabaseAsync()
    {
        if (spareDatabase is null)
        {
            await Postgres.CreateDatabaseAsync("spare");
            spareDatabase = "spare";
        }

        return spareDatabase;
    }

    private string? spareDatabase;

    internal PostgresServer Postgres { get; private set; } = null!;

    public string Database { get; } = "chat";

    public string A => Running(instances[0], "A").Url;

    public string B => Running(instances[1], "B").Url;

    /// <summary>
    /// The fixture's hub, or a failure saying how it ended: a test must not go on talking to its port once the process is
    /// gone (another test's hub may be listening there by then, on another database).
    /// </summary>
    private static HubInstance Running(HubInstance hub, string name) => hub.Process.HasExited
        ? throw new InvalidOperationException(
            $"the fixture's hub {name} ({hub.Url}) exited {hub.Process.ExitCode}; its last output:\n{string.Join('\n', hub.Process.OutputOnceExited().TakeLast(60))}")
        : hub;

    public IConnectionMultiplexer RedisClient { get; private set; } = null!;

    public NpgsqlDataSource Db { get; private set; } = null!;

    public IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["ConnectionStrings:Redis"] = RedisConnectionString,
        ["ConnectionStrings:Postgres"] = Postgres.ConnectionString(Database),
        ["Chat:Model:Simulated:TokensPerSecond"] = TokensPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Chat:Model:Simulated:ResponseTokens"] = ResponseTokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
        // Every test signs in through A's dev-token endpoint from one address, and some make many calls as one user:
        // the call limits are tested on instances of their own (LimitTests), not on the shared ones.
        ["Auth:DevTokensPerMinute"] = "0",
        ["Chat:ConversationsPerMinutePerUser"] = "0",
        ["Chat:ReadsPerMinutePerUser"] = "0",
        ["Chat:SendCallsPerMinutePerUser"] = "0",
        ["Chat:RestRequestsPerMinutePerUser"] = "0",
    };

    public async Task InitializeAsync()
    {
        var postgres = PostgresServer.StartAsync();
        if (onRedisCluster)
        {
            RedisCluster = await RedisClusterServer.StartAsync();
        }
        else
        {
            redis = await RedisServer.StartAsync();
        }

        Postgres = await postgres;
        await Postgres.CreateDatabaseAsync(Database);
        RedisClient = await ConnectionMultiplexer.ConnectAsync($"{RedisConnectionString},allowAdmin=true");
        Db = NpgsqlDataSource.Create(Postgres.ConnectionString(Database));

        // Started one after the other: the second also proves migrations are idempotent.
        instances.Add(await HubInstance.StartAsync(Settings));
        instances.Add(await HubInstance.StartAsync(Settings));
    }

    /// <summary>The fake OpenAI-compatible server the provider hubs talk to (started on first use).</summary>
    public FakeOpenAIServer FakeModel => fakeModel ?? throw new InvalidOperationException("call ProviderHubAsync first");

    /// <summary>
    /// The settings of a hub whose model is the fake OpenAI server (started on first use) through the real SDK, on top of
    /// the cluster's: for tests that start a hub of their own with replies they script.
    /// </summary>
    internal async Task<Dictionary<string, string>> FakeModelSettingsAsync()
    {
        fakeModel ??= await FakeOpenAIServer.StartAsync();
        var settings = Settings.ToDictionary();
        settings["Chat:Model:Provider"] = "OpenAI";
        settings["Chat:Model:Endpoint"] = $"{fakeModel.Url}/v1";
        settings["Chat:Model:Name"] = "fake-gpt";
        settings["Chat:Model:ApiKey"] = ModelApiKey("OpenAI");
        return settings;
    }

    /// <summary>
    /// A Hub instance whose model is <paramref name="provider"/> (OpenAI or AzureOpenAI) reached through the real SDK at
    /// the fake server; started on first use, sharing the cluster's Redis and Postgres.
    /// </summary>
    internal async Task<HubInstance> ProviderHubAsync(string provider)
    {
        fakeModel ??= await FakeOpenAIServer.StartAsync();
        if (!providerHubs.TryGetValue(provider, out var hub))
        {
            var settings = Settings.ToDictionary();
            settings["Chat:Model:Provider"] = provider;
            settings["Chat:Model:ApiKey"] = ModelApiKey(provider);
            settings["Chat:Model:StallTimeout"] = ProviderStallTimeout.ToString();
            settings["Chat:Model:MaxRetries"] = "2";
            settings["Chat:Model:SystemPrompt"] = ProviderSystemPrompt;
            settings["Chat:Model:MaxContextMessages"] = "3";
            if (provider == "OpenAI")
            {
                settings["Chat:Model:Endpoint"] = $"{fakeModel.Url}/v1";
                settings["Chat:Model:Name"] = "fake-gpt";
            }
            else
            {
                settings["Chat:Model:Endpoint"] = fakeModel.Url;
                settings["Chat:Model:Deployment"] = "fake-deployment";
            }

            hub = await HubInstance.StartAsync(settings);
            providerHubs[provider] = hub;
        }

        return hub;
    }

    /// <summary>
    /// A Hub instance (sharing the cluster's Redis and Postgres) whose answers last <see cref="LongAnswerTokens"/> tokens at
    /// 20 a second, so a test acting mid-answer (join, cancel, scrape) never races the answer's end, however busy the
    /// machine is. Started on first use. A test that does not wait for the end cancels its answer.
    /// </summary>
    internal async Task<HubInstance> LongAnswerHubAsync()
    {
        if (longAnswerHub is null)
        {
            var settings = Settings.ToDictionary();
            settings["Chat:Model:Simulated:TokensPerSecond"] = "20";
            settings["Chat:Model:Simulated:ResponseTokens"] = LongAnswerTokens.ToString(System.Globalization.CultureInfo.InvariantCulture);
            longAnswerHub = await HubInstance.StartAsync(settings);
        }

        return longAnswerHub;
    }

    public const int LongAnswerTokens = 2000;

    /// <summary>The cluster's settings with <paramref name="overrides"/> on top: what a hub of a test's own is started with.</summary>
    internal Dictionary<string, string> SettingsWith(IReadOnlyDictionary<string, string> overrides)
    {
        var settings = Settings.ToDictionary();
        foreach (var (name, value) in overrides)
        {
            settings[name] = value;
        }

        return settings;
    }

    /// <summary>Each user's daily token budget on the catalog hubs.</summary>
    public const int CatalogTokensPerDay = 2000;

    /// <summary>
    /// Two Hub instances (sharing the cluster's Redis and Postgres) with a model catalog: <c>fast</c> (simulated, the
    /// default), <c>thinker</c> (simulated, reasons first, offered search_history), <c>slow</c> (the same at 20 tokens a
    /// second for <see cref="LongAnswerTokens"/>: a test acts mid-answer, then cancels), <c>long</c> (simulated, answers of
    /// 3000 tokens: crosses the budget in one answer), <c>burst</c> (simulated, 5000 tokens at 300 a second: a test
    /// cancels it after many tokens), <c>gpt</c> (OpenAI at the fake server, model fake-gpt) and
    /// <c>azure</c> (Azure OpenAI at the fake server, deployment fake-deployment), both offered search_history; each
    /// user may use <see cref="CatalogTokensPerDay"/> tokens a day. Started on first use.
    /// </summary>
    internal async Task<(HubInstance A, HubInstance B)> CatalogHubsAsync()
    {
        fakeModel ??= await FakeOpenAIServer.StartAsync();
        if (catalogHubs.Count == 0)
        {
            var settings = Settings.ToDictionary();
            settings["Chat:DefaultModel"] = "fast";
            settings["Chat:TokensPerDayPerUser"] = CatalogTokensPerDay.ToString(System.Globalization.CultureInfo.InvariantCulture);
            settings["Chat:Model:StallTimeout"] = "00:00:15"; // no catalog test stalls: a busy machine's slow first token is not one
            settings["Chat:Model:MaxRetries"] = "0";
            settings["Chat:Models:fast:Provider"] = "Simulated";
            settings["Chat:Models:fast:Simulated:TokensPerSecond"] = "200";
            settings["Chat:Models:thinker:Provider"] = "Simulated";
            settings["Chat:Models:thinker:Simulated:TokensPerSecond"] = "200";
            settings["Chat:Models:thinker:Simulated:ReasoningTokens"] = "8";
            settings["Chat:Models:thinker:Tools:0"] = "search_history";
            settings["Chat:Models:slow:Provider"] = "Simulated";
            settings["Chat:Models:slow:Simulated:TokensPerSecond"] = "20";
            settings["Chat:Models:slow:Simulated:ReasoningTokens"] = "4";
            settings["Chat:Models:slow:Simulated:ResponseTokens"] = LongAnswerTokens.ToString(System.Globalization.CultureInfo.InvariantCulture);
            settings["Chat:Models:slow:MaxOutputTokens"] = "5000";
            settings["Chat:Models:slow:Tools:0"] = "search_history";
            settings["Chat:Models:long:Provider"] = "Simulated";
            settings["Chat:Models:long:MaxOutputTokens"] = "5000";
            settings["Chat:Models:long:Simulated:TokensPerSecond"] = "0";
            settings["Chat:Models:long:Simulated:ResponseTokens"] = "3000";
            settings["Chat:Models:burst:Provider"] = "Simulated";
            settings["Chat:Models:burst:MaxOutputTokens"] = "5000";
            settings["Chat:Models:burst:Simulated:TokensPerSecond"] = "300";
            settings["Chat:Models:burst:Simulated:ResponseTokens"] = "5000";
            settings["Chat:Models:gpt:Provider"] = "OpenAI";
            settings["Chat:Models:gpt:Endpoint"] = $"{fakeModel.Url}/v1";
            settings["Chat:Models:gpt:Name"] = "fake-gpt";
            settings["Chat:Models:gpt:ApiKey"] = ModelApiKey("OpenAI");
            settings["Chat:Models:gpt:Tools:0"] = "search_history";
            settings["Chat:Models:azure:Provider"] = "AzureOpenAI";
            settings["Chat:Models:azure:Endpoint"] = fakeModel.Url;
            settings["Chat:Models:azure:Deployment"] = "fake-deployment";
            settings["Chat:Models:azure:ApiKey"] = ModelApiKey("AzureOpenAI");
            settings["Chat:Models:azure:Tools:0"] = "search_history";
            catalogHubs.Add(await HubInstance.StartAsync(settings));
            catalogHubs.Add(await HubInstance.StartAsync(settings));
        }

        return (catalogHubs[0], catalogHubs[1]);
    }

    public const string ProviderSystemPrompt = "You are the test assistant.";

    /// <summary>
    /// The provider hubs' Chat:Model:StallTimeout: long enough that a busy machine's first delta (the SDK's request on a
    /// loaded CPU) is not taken for a stall, short enough for the stall test.
    /// </summary>
    public static readonly TimeSpan ProviderStallTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The (fake) key of a provider: it must never appear in logs, Redis or Postgres.</summary>
    public static string ModelApiKey(string provider) => $"sk-{provider}-SECRET-7f3c9a1e";

    /// <summary>Everything every hub process has written so far (those of test classes that are done included).</summary>
    internal IEnumerable<string> HubOutput
    {
        get
        {
            lock (retired)
            {
                return [.. AllHubs.Concat(retired).SelectMany(i => i.Process.Output)];
            }
        }
    }

    /// <summary>A class's shared hub (<see cref="ClassHubs"/>), stopped when the class is done: its output is kept.</summary>
    internal void Retire(HubInstance hub)
    {
        lock (retired)
        {
            retired.Add(hub);
        }
    }

    private IEnumerable<HubInstance> AllHubs =>
        instances.Concat(providerHubs.Values).Concat(catalogHubs).Concat(longAnswerHub is null ? [] : [longAnswerHub]);

    public async Task<string> TokenAsync(string userName)
    {
        var response = await http.PostAsJsonAsync($"{A}{ChatHubPaths.DevToken}", new DevTokenRequest(userName));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<DevTokenResponse>())!.AccessToken;
    }

    /// <summary>An answer's row as Postgres holds it: what every test compares the streamed and announced text with.</summary>
    public async Task<SavedAnswer> SavedAsync(Guid messageId, string? database = null)
    {
        await using var other = database is null ? null : NpgsqlDataSource.Create(Postgres.ConnectionString(database));
        await using var connection = await (other ?? Db).OpenConnectionAsync();
        return await connection.QuerySingleAsync<SavedAnswer>(
            "SELECT content AS Content, status AS Status, last_sequence AS LastSequence FROM messages WHERE id = @messageId", new { messageId });
    }

    /// <summary>A conversation of <paramref name="pairs"/> saved questions and answers, written straight to Postgres.</summary>
    public async Task<(string Token, Guid ConversationId, List<string> Contents)> SeedConversationAsync(string user, int pairs)
    {
        var token = await TokenAsync(user);
        await using var owner = await ChatTestClient.ConnectAsync(A, token);
        var conversation = await owner.CreateConversationAsync("long");
        var contents = new List<string>();
        await using var db = await Db.OpenConnectionAsync();
        Guid? parent = null;
        for (var i = 0; i < pairs; i++)
        {
            var (question, answer) = (Guid.CreateVersion7(), Guid.CreateVersion7());
            await db.ExecuteAsync(
                """
                INSERT INTO messages (id, conversation_id, role, content, status, parent_id, created_at, completed_at)
                VALUES (@question, @Id, 'user', @q, 'completed', @parent, now(), now());
                INSERT INTO messages (id, conversation_id, role, content, status, reply_to_id, parent_id, last_sequence, created_at, completed_at)
                VALUES (@answer, @Id, 'assistant', @a, 'completed', @question, @question, 1, now(), now());
                UPDATE conversations SET active_leaf_id = @answer WHERE id = @Id;
                """,
                new { question, answer, parent, conversation.Id, q = $"question {i}", a = $"answer {i}" });
            parent = answer;
            contents.Add($"question {i}");
            contents.Add($"answer {i}");
        }

        return (token, conversation.Id, contents);
    }

    /// <summary>A connected client of <paramref name="userName"/> on the instance at <paramref name="url"/>.</summary>
    public async Task<ChatTestClient> ConnectAsync(string url, string userName) =>
        await ChatTestClient.ConnectAsync(url, await TokenAsync(userName));

    public async Task DisposeAsync()
    {
        foreach (var instance in AllHubs)
        {
            await instance.DisposeAsync();
        }

        if (fakeModel is not null)
        {
            await fakeModel.DisposeAsync();
        }

        http.Dispose();
        await Db.DisposeAsync();
        await RedisClient.DisposeAsync();
        if (RedisCluster is not null)
        {
            await RedisCluster.DisposeAsync();
        }

        if (redis is not null)
        {
            await redis.DisposeAsync();
        }

        if (spareRedis is not null)
        {
            await spareRedis.DisposeAsync();
        }

        await Postgres.DisposeAsync();
    }
}

/// <summary>A message row: its text, its status (wire name) and its last sequence (null for a user message).</summary>
public sealed record SavedAnswer(string Content, string Status, long? LastSequence)
{
    /// <summary>The row an announced end must match: its text, status and last sequence.</summary>
    public static SavedAnswer Of(GenerationFinished finished) => new(finished.Content, finished.Status.ToWireName(), finished.LastSequence);
}

/// <summary>
/// The suite runs as five collections side by side, each with a cluster of its own (its own Redis, Postgres and two
/// hubs): what restarts Redis or Postgres, waits out leases or cuts links shares a cluster only with tests of its kind,
/// and the long waits of one collection overlap the work of the others; they are balanced by their measured durations
/// (README, "Tests"). Inside a collection tests run one at a time.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ChatCluster>
{
    /// <summary>Streaming, conversations, models, security, operations, the per-user limits and the console client on a healthy cluster.</summary>
    public const string Name = "cluster";
}

[CollectionDefinition(Name)]
public sealed class ClientCollection : ICollectionFixture<ChatCluster>, ICollectionFixture<BrowserSession>
{
    /// <summary>The browser apps in headless Chromium, one for the collection (the console client runs with the cluster collection).</summary>
    public const string Name = "clients";
}

[CollectionDefinition(Name)]
public sealed class FaultCollection : ICollectionFixture<ChatCluster>
{
    /// <summary>Leases, takeovers, cut links (long waits); Postgres stopped (for balance).</summary>
    public const string Name = "faults";
}

/// <summary>The same product on a six-node Redis Cluster (three masters, three replicas).</summary>
public sealed class ChatOnRedisCluster() : ChatCluster(onRedisCluster: true);

[CollectionDefinition(Name)]
public sealed class RedisClusterCollection : ICollectionFixture<ChatOnRedisCluster>
{
    /// <summary>
    /// Streaming, resume, cancel, limits, leases and orphan recovery again, on a Redis Cluster: each class here derives
    /// from its single-node class and only changes the fixture; failovers; and (for balance) the packages.
    /// </summary>
    public const string Name = "redis-cluster";
}

[CollectionDefinition(Name)]
public sealed class OutageCollection : ICollectionFixture<ChatCluster>
{
    /// <summary>
    /// Redis stopped, paused or refusing; killed and stopped instances (a load balancer losing one among them); clients
    /// that never read or acknowledge; the benchmark's quick run.
    /// </summary>
    public const string Name = "outages";
}
