// The benchmark's resumable-stream peer: Vercel's resumable-stream (2.2.x) as its README uses it, on the benchmark's
// Redis. Started by ChatStreaming.Bench: node server.mjs PORT REDIS_URL.
//   GET /stream/:id?tokens=N&tps=R  runs the stream here (the simulated model at the same pace as every pipeline) and
//                                   sends it as Server-Sent Events: the producer's own client (same instance).
//   GET /resume/:id                 resumes it from any instance over SSE: resumable-stream asks the producing
//                                   instance over Redis pub/sub for what was sent and for the rest (cross-instance).
// A chunk is one JSON line {"Q":seq,"D":text,"T":emittedAtUnixMs}; an SSE event carries one or more lines (a resume
// gets what was sent before it as one string).
import http from "node:http";
import { performance } from "node:perf_hooks";
import { createClient } from "redis";
import { createResumableStreamContext } from "resumable-stream/redis";

const [port, redisUrl] = process.argv.slice(2);
const publisher = createClient({ url: redisUrl });
const subscriber = createClient({ url: redisUrl });
const context = createResumableStreamContext({ waitUntil: null, publisher, subscriber, keyPrefix: "peer-rs" });
const words = ["stream", "redis", "chunk", "signal", "answer", "token", "replay", "order", "the", "a", "of", "postgres", "latency"];
// The wall clock every process of the benchmark shares, with a fraction of a millisecond. performance.timeOrigin is
// not it: in Node processes started here it was up to 0.93 ms ahead of the system clock, more when the machine was
// busy (every latency this peer reported was that much too short). So the offset of the monotonic clock from the
// system clock is measured at the edge of a Date.now() millisecond, at start and every 5 s (a spin of under a
// millisecond).
let offset = 0;
function calibrate() {
  const before = Date.now();
  let edge, at;
  do {
    edge = Date.now();
    at = performance.now();
  } while (edge === before);
  offset = edge - at;
}
calibrate();
setInterval(calibrate, 5000).unref();
const now = () => offset + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function model(tokens, tokensPerSecond) {
  return new ReadableStream({
    async start(controller) {
      const start = performance.now();
      for (let i = 1; i <= tokens; i++) {
        const due = ((i - 1) * 1000) / tokensPerSecond - (performance.now() - start);
        if (due > 0) await sleep(due);
        controller.enqueue(JSON.stringify({ Q: i, D: words[i % words.length] + (i === tokens ? "." : " "), T: now() }) + "\n");
      }
      controller.close();
    },
  });
}

async function send(response, stream) {
  response.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" });
  response.flushHeaders();
  if (!stream) return response.end();
  for await (const value of stream) {
    for (const line of value.split("\n")) {
      if (line) response.write(`data: ${line}\n\n`);
    }
  }
  response.end("event: done\ndata: \n\n");
}

const server = http.createServer(async (request, response) => {
  try {
    const url = new URL(request.url, "http://localhost");
    const [, kind, id] = url.pathname.split("/");
    if (kind === "health") return response.end("ok");
    if (kind === "stream") {
      const tokens = Number(url.searchParams.get("tokens"));
      const tps = Number(url.searchParams.get("tps"));
      return await send(response, await context.resumableStream(id, () => model(tokens, tps)));
    }
    if (kind === "resume") {
      const stream = await context.resumeExistingStream(id);
      if (stream === undefined) {
        response.writeHead(404);
        return response.end();
      }
      return await send(response, stream);
    }
    response.writeHead(404);
    response.end();
  } catch (error) {
    console.error(error);
    if (!response.headersSent) response.writeHead(500);
    response.end();
  }
});
await Promise.all([publisher.connect(), subscriber.connect()]);
server.keepAliveTimeout = 60_000;
server.listen(Number(port), "127.0.0.1");
