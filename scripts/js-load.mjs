// An outside load with the official JavaScript client (@microsoft/signalr, JSON), the way an independent check runs it:
// USERS users, each with two tabs: the sender on one instance, a watcher on the other (users alternate which is which);
// each user sends ANSWERS messages one after the other and closes both tabs when its last answer has ended.
// Reports model delta → client callback (Date-based: emittedAt is the producing server's clock, both on this machine)
// for the whole run and for the steady window of the first answers (from 1 s after the last of them started to 0.5 s
// before the first of them ended: no sends, ends or closes in it), and checks every chunk arrived once with the exact
// text. Exit status 1 when a chunk was lost or duplicated, an answer did not end, or a text differs.
// Usage: scripts/js-load.sh URL_A URL_B [--users 100] [--answers 1] [--keep] [--idle N] [--timeline]
//   --keep      tabs stay open until every user is done (no closes during the run)
//   --idle N    N more users, each with two idle tabs in a conversation of its own (in a second Node process, so that
//               closing them costs this one nothing), all closed at once mid-run: the latency of the running answers
//               just before and just after
//   --timeline  p50/p99 per half second of the run
import { fork } from "node:child_process";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";

const require = createRequire(new URL("../Hub/ClientApp/package.json", import.meta.url));
const signalR = require("@microsoft/signalr");

const { values: options, positionals: [A, B] } = parseArgs({
  allowPositionals: true,
  options: {
    users: { type: "string", default: "100" },
    answers: { type: "string", default: "1" },
    keep: { type: "boolean", default: false },
    idle: { type: "string", default: "0" },
    timeline: { type: "boolean", default: false },
    "idle-child": { type: "boolean", default: false },
  },
});
if (!A || !B) {
  console.error("usage: scripts/js-load.sh URL_A URL_B [--users N] [--answers N] [--keep] [--idle N] [--timeline]");
  process.exit(2);
}
const users = Number(options.users), answers = Number(options.answers), idleUsers = Number(options.idle);
const now = () => performance.timeOrigin + performance.now(); // sub-millisecond wall clock
const run = Date.now();
const cross = [], same = []; // [emittedAt, latency ms]
const spans = new Map(); // every answer: message id → [first emitted, last emitted] of the chunks received
const firstAnswers = new Set(); // the first answer of each user
let lost = 0, duplicated = 0, wrongText = 0, unfinished = 0;

async function signIn(name) {
  const response = await fetch(`${A}/api/auth/dev-token`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ userName: name }) });
  if (!response.ok) throw new Error(`POST /api/auth/dev-token: ${response.status} (start the hubs with Auth__DevTokensPerMinute=0)`);
  return (await response.json()).accessToken;
}

async function open(url, token, samples) {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${url}/hubs/chat`, { accessTokenFactory: () => token, skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets })
    .configureLogging(signalR.LogLevel.None)
    .build();
  connection.chunks = new Map();
  connection.finished = new Map();
  connection.on("ReceiveChunk", (chunk) => {
    const at = now();
    let chunks = connection.chunks.get(chunk.messageId);
    if (!chunks) connection.chunks.set(chunk.messageId, (chunks = []));
    chunks.push(chunk);
    samples?.push([chunk.emittedAt, at - chunk.emittedAt]);
    const span = spans.get(chunk.messageId);
    if (span) {
      span[0] = Math.min(span[0], chunk.emittedAt);
      span[1] = Math.max(span[1], chunk.emittedAt);
    } else {
      spans.set(chunk.messageId, [chunk.emittedAt, chunk.emittedAt]);
    }
  });
  connection.on("GenerationFinished", (finished) => connection.finished.set(finished.messageId, finished));
  await connection.start();
  return connection;
}

function check(connection, messageId) {
  const finished = connection.finished.get(messageId);
  const chunks = connection.chunks.get(messageId) ?? [];
  if (!finished) {
    unfinished++;
    return;
  }
  const sequences = new Set(chunks.map((c) => c.sequence));
  duplicated += chunks.length - sequences.size;
  lost += finished.lastSequence - sequences.size;
  const inOrder = chunks.every((c, i) => i === 0 || c.sequence > chunks[i - 1].sequence);
  if (!inOrder || chunks.map((c) => c.delta).join("") !== finished.content) wrongText++;
}

async function user(index) {
  const token = await signIn(`js-load-${run}-${index}`);
  const [home, other] = index % 2 === 0 ? [A, B] : [B, A];
  const sender = await open(home, token, same);
  const watcher = await open(other, token, cross);
  const conversation = await sender.invoke("CreateConversation", `js-load ${index}`);
  await watcher.invoke("JoinConversation", conversation.id);
  for (let round = 0; round < answers; round++) {
    const sent = await sender.invoke("SendMessage", { conversationId: conversation.id, content: `js-load ${index}.${round}` });
    if (round === 0) firstAnswers.add(sent.assistantMessageId);
    const deadline = Date.now() + 120_000;
    while (!(sender.finished.has(sent.assistantMessageId) && watcher.finished.has(sent.assistantMessageId)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    check(sender, sent.assistantMessageId);
    check(watcher, sent.assistantMessageId);
  }
  if (!options.keep) await Promise.all([sender.stop(), watcher.stop()]);
  return [sender, watcher];
}

async function idleUser(index) {
  const token = await signIn(`js-load-idle-${run}-${index}`);
  const tabs = [await open(A, token), await open(B, token)];
  const conversation = await tabs[0].invoke("CreateConversation", `js-load idle ${index}`);
  await tabs[1].invoke("JoinConversation", conversation.id);
  return tabs;
}

const summary = (samples) => {
  if (samples.length === 0) return "no deliveries";
  const sorted = samples.map((s) => s[1]).sort((x, y) => x - y);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(2);
  return `p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms (${samples.length})`;
};

if (options["idle-child"]) {
  // The idle users' process: opens their tabs, says so, closes them all when told, says so, ends.
  const tabs = (await Promise.all(Array.from({ length: idleUsers }, (_, i) => idleUser(i)))).flat();
  process.send({ open: tabs.length });
  process.on("message", async () => {
    await Promise.all(tabs.map((tab) => tab.stop()));
    process.send({ closed: true });
    process.exit(0);
  });
} else {
  await main();
}

async function main() {
  let idle = null;
  if (idleUsers > 0) {
    idle = fork(new URL(import.meta.url).pathname, [A, B, "--idle", String(idleUsers), "--idle-child"]);
    idle.opened = await new Promise((resolve) => idle.once("message", (m) => resolve(m.open)));
  }
  const started = Date.now();
  const running = Promise.all(Array.from({ length: users }, (_, i) => user(i)));
  let closedAt = null;
  if (idle) {
    // Mid-run: halfway through the simulated answers' usual 10 s, once every user has started.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    closedAt = now();
    idle.send({ close: true });
    await new Promise((resolve) => idle.once("message", resolve));
  }
  const tabs = (await running).flat();
  const seconds = (Date.now() - started) / 1000;
  if (options.keep) await Promise.all(tabs.map((tab) => tab.stop()));

  const first = [...firstAnswers].map((id) => spans.get(id)).filter((span) => span);
  const from = Math.max(...first.map((s) => s[0])) + 1000;
  const to = Math.min(...first.map((s) => s[1])) - 500;
  const steady = cross.filter(([emitted]) => emitted >= from && emitted <= to);
  console.log(`${users} users × ${answers} answers, official JavaScript client (JSON), ${options.keep ? "tabs kept open to the end" : "each user closes its tabs when done"}: ${seconds.toFixed(1)} s`);
  console.log(`  cross-instance, whole run: ${summary(cross)}`);
  console.log(`  same-instance, whole run:  ${summary(same)}`);
  console.log(`  cross-instance, steady window of the first answers (${(Math.max(0, to - from) / 1000).toFixed(1)} s): ${summary(steady)}`);
  if (closedAt !== null) {
    const before = cross.filter(([emitted]) => emitted >= closedAt - 500 && emitted < closedAt);
    const after = cross.filter(([emitted]) => emitted >= closedAt && emitted < closedAt + 500);
    console.log(`  ${idle.opened} idle tabs (another process) closed at once: cross-instance in the 0.5 s before ${summary(before)}; in the 0.5 s after ${summary(after)}`);
  }
  if (options.timeline) {
    const origin = Math.min(...cross.map((s) => s[0]));
    const buckets = new Map();
    for (const sample of cross) {
      const key = Math.floor((sample[0] - origin) / 500);
      if (!buckets.has(key)) buckets.set(key, []);
      buckets.get(key).push(sample);
    }
    for (const [key, samples] of [...buckets].sort((x, y) => x[0] - y[0])) {
      console.log(`  ${(key / 2).toFixed(1).padStart(5)} s: ${summary(samples)}`);
    }
  }
  console.log(`  lost ${lost}, duplicated ${duplicated}, unfinished ${unfinished}, texts not exact ${wrongText}`);
  process.exit(lost + duplicated + unfinished + wrongText > 0 ? 1 : 0);
}
