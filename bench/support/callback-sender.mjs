// The WeCom side of `wecom-callbacks`, on a thread of its own: WeCom's servers are not in our processes, so the
// time an answer takes must not include time this bench's other work (the engine worker, the local WeCom)
// held the event loop that sends and times the requests.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Buffer } from 'node:buffer';
import { parentPort, workerData } from 'node:worker_threads';

const { url, requests, rate, sockets } = workerData;
// WeCom's servers call from a bounded set of connections, kept alive
const agent = new Agent({ keepAlive: true, maxSockets: sockets });
const acks = [];
/** time on a connection: from the request's first byte written to its answer read (acks add the wait for a connection) */
const flights = [];
const failures = [];

const post = (target, body) => new Promise((resolve, reject) => {
  let onSocket = 0;
  const req = request(target, { method: 'POST', agent, headers: { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body) } }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => {
      flights.push(performance.now() - onSocket);
      resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() });
    });
  });
  req.once('socket', () => void (onSocket = performance.now()));
  req.on('error', reject);
  req.end(body);
});

const send = async ({ query, body }) => {
  const t = performance.now(); // from when the request was due: time queued for a connection counts
  try {
    const { status, text } = await post(`${url}?${query}`, body);
    if (text !== 'success') failures.push(`${status} ${text.slice(0, 100)}`);
  } catch (err) {
    failures.push(err.message);
  }
  acks.push(performance.now() - t);
};

// 10 ms ticks of rate/100 requests each, on the clock (not after the previous ones answered)
const started = performance.now();
const inFlight = [];
const perTick = rate / 100;
for (let tick = 0; tick * perTick < requests.length; tick++) {
  const wait = started + tick * 10 - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  for (const r of requests.slice(tick * perTick, (tick + 1) * perTick)) inFlight.push(send(r));
}
await Promise.all(inFlight);
agent.destroy();
parentPort.postMessage({ acks, flights, failures, sentS: (performance.now() - started) / 1000 });
