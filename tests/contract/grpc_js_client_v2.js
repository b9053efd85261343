// The docspasta.v2 contract from Node.js: @grpc/grpc-js with @grpc/proto-loader loading
// proto/docspasta/v2 as an outside user would, every channel option at its default (so
// a 4 MiB receive limit). Run by tests/contract/test_grpc_js.py against the real services:
//
//   node grpc_js_client_v2.js --target ORCHESTRATOR --processor PROCESSOR --url URL \
//        --proto DIR --googleapis DIR
//
// It starts a job with OrchestratorService.StartJob (a Duration timeout), reads its
// JobEventsResponse stream as raw bytes, replays it from the middle (10 replays at once)
// byte-for-byte, reads the Job (create_time, finish_time), lists the pages with
// ProcessorService.ListPages in pages of 3 following next_page_token, reassembling
// chunked pages (one is over 4 MiB), tries the same large page through v1 (which a
// default client cannot receive), and decodes v2 error details. Prints one JSON object;
// exits 1 on any failed check.
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

function args() {
  const out = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  for (const key of ['target', 'processor', 'url', 'proto', 'googleapis']) {
    if (!out[key]) throw new Error(`missing --${key}`);
  }
  return out;
}

const opts = args();
const DEADLINE_MS = 180_000;
const deadline = () => new Date(Date.now() + DEADLINE_MS);
const DEFAULT_LIMIT = 4 * 1024 * 1024;

const definition = protoLoader.loadSync(
  ['docspasta/v2/orchestrator.proto', 'docspasta/v2/processor.proto', 'docspasta/v1/processor.proto'],
  { includeDirs: [opts.proto], keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
const loaded = grpc.loadPackageDefinition(definition).docspasta;
const credentials = grpc.credentials.createInsecure();
const orchestrator = new loaded.v2.OrchestratorService(opts.target, credentials);
const processor = new loaded.v2.ProcessorService(opts.processor, credentials);
const processorV1 = new loaded.v1.Processor(opts.processor, credentials);

const root = new protobuf.Root();
root.resolvePath = (origin, target) => {
  for (const dir of [opts.proto, opts.googleapis]) {
    const candidate = path.join(dir, target);
    if (fs.existsSync(candidate)) return candidate;
  }
  return protobuf.util.path.resolve(origin, target);
};
root.loadSync(['docspasta/v2/orchestrator.proto', 'google/rpc/status.proto', 'google/rpc/error_details.proto'],
  { keepCase: true });
root.resolveAll();
const JobEventsResponse = root.lookupType('docspasta.v2.JobEventsResponse');
const JobEventsRequest = root.lookupType('docspasta.v2.JobEventsRequest');
const Status = root.lookupType('google.rpc.Status');
const DETAIL_TYPES = ['google.rpc.ErrorInfo', 'google.rpc.BadRequest', 'google.rpc.RetryInfo']
  .map((name) => root.lookupType(name));

const Raw = grpc.makeGenericClientConstructor({
  JobEvents: {
    path: '/docspasta.v2.OrchestratorService/JobEvents',
    requestStream: false,
    responseStream: true,
    requestSerialize: (message) => Buffer.from(JobEventsRequest.encode(message).finish()),
    requestDeserialize: (bytes) => bytes,
    responseSerialize: (bytes) => bytes,
    responseDeserialize: (bytes) => bytes,
  },
}, 'RawOrchestratorService');
const raw = new Raw(opts.target, credentials);

function unary(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: deadline() }, (err, reply) => (err ? reject(err) : resolve(reply)));
  });
}

function stream(client, method, request) {
  return new Promise((resolve, reject) => {
    const items = [];
    const call = client[method](request, { deadline: deadline() });
    call.on('data', (item) => items.push(item));
    call.on('error', reject);
    call.on('end', () => resolve(items));
  });
}

function readEvents(afterSequence) {
  return stream(raw, 'JobEvents', JobEventsRequest.create({ job_id: jobId, after_sequence: afterSequence }))
    .then((frames) => frames.map((bytes) => Buffer.from(bytes)));
}

function decodeDetails(err) {
  const [bin] = err.metadata.get('grpc-status-details-bin');
  assert.ok(bin, `no grpc-status-details-bin on ${err.code} ${err.details}`);
  const status = Status.decode(bin);
  const out = { code: status.code, message: status.message, details: {} };
  for (const any of status.details) {
    const type = DETAIL_TYPES.find((t) => any.type_url === `type.googleapis.com/${t.fullName.slice(1)}`);
    assert.ok(type, `unknown detail ${any.type_url}`);
    out.details[type.name] = type.toObject(type.decode(any.value), { defaults: false });
  }
  return out;
}

async function expectError(promise) {
  try {
    await promise;
  } catch (err) {
    return { grpcCode: err.code, message: err.details, status: err.metadata.get('grpc-status-details-bin').length
      ? decodeDetails(err) : null };
  }
  throw new Error('the call succeeded; an error was expected');
}

// ListPages, following next_page_token, reassembling pages sent in chunks.
async function listAllPages(pageSize) {
  const pages = [];
  const calls = [];
  let token = '';
  let largestMessage = 0;
  for (;;) {
    const messages = await stream(processor, 'ListPages', { job_id: jobId, page_size: pageSize, page_token: token });
    let current = null;
    let parts = [];
    let received = 0;
    let inCall = 0;
    token = '';
    for (const message of messages) {
      if (message.content === 'page') {
        assert.equal(current, null, 'a page began inside another');
        current = message.page;
        parts = [Buffer.from(current.markdown, 'utf8')];
        received = parts[0].length;
      } else {
        assert.equal(message.content, 'chunk');
        assert.ok(current && message.chunk.url === current.url, 'a chunk of the page just sent');
        assert.equal(message.chunk.offset, received, 'chunks are gapless');
        const part = Buffer.from(message.chunk.markdown, 'utf8');
        largestMessage = Math.max(largestMessage, part.length);
        parts.push(part);
        received += part.length;
      }
      if (received === current.markdown_size) {
        const markdown = Buffer.concat(parts);
        pages.push({ url: current.url, order: current.order, markdown_size: current.markdown_size,
          chunks: parts.length, sha256: crypto.createHash('sha256').update(markdown).digest('hex') });
        token = message.next_page_token;
        current = null;
        inCall += 1;
      } else {
        assert.equal(message.next_page_token, '', 'no token inside a page');
      }
    }
    assert.equal(current, null, 'the stream ended inside a page');
    calls.push(inCall);
    if (!token) break;
  }
  return { pages, calls, largestMessage };
}

let jobId = '';

async function main() {
  const started = await unary(orchestrator, 'StartJob',
    { url: opts.url, options: { max_pages: 50, timeout: { seconds: 150, nanos: 0 } } });
  jobId = started.job_id;
  assert.match(jobId, /\S/);
  assert.ok(Number(started.job.create_time.seconds) > 0, 'create_time');

  const all = await readEvents(0);
  const events = all.map((bytes) => JobEventsResponse.decode(bytes).event);
  events.forEach((event, i) => assert.equal(Number(event.sequence), i + 1, 'sequences 1..N without gaps'));
  const terminal = events[events.length - 1].event;
  assert.ok(['job_completed', 'job_failed', 'job_timeout', 'job_cancelled'].includes(terminal), terminal);

  const middle = Math.floor(all.length / 2);
  const replays = await Promise.all(Array.from({ length: 10 }, () => readEvents(middle)));
  for (const replay of replays) {
    assert.equal(replay.length, all.length - middle);
    replay.forEach((bytes, i) => assert.ok(bytes.equals(all[middle + i]), `event ${middle + i + 1} differs`));
  }

  const job = await unary(orchestrator, 'GetJob', { job_id: jobId });
  assert.ok(job.finish_time, 'a finished job has finish_time');
  const listed = await listAllPages(3);
  const big = listed.pages.find((p) => p.markdown_size > DEFAULT_LIMIT);
  assert.ok(big, 'a page over 4 MiB was listed');

  // The same page through v1: one message over the default limit.
  const v1Big = await expectError(stream(processorV1, 'ListPages',
    { job_id: jobId, after_order: big.order - 1, limit: 1 }));

  const invalid = await expectError(unary(orchestrator, 'StartJob',
    { url: opts.url, options: { timeout: { seconds: -1, nanos: 0 } } }));
  const missing = await expectError(unary(orchestrator, 'GetJob', { job_id: 'no-such-job-0000' }));
  const badToken = await expectError(stream(processor, 'ListPages', { job_id: jobId, page_token: 'AAAA' }));
  const beyond = await expectError(readEvents(Number(job.last_sequence) + 5));

  process.stdout.write(JSON.stringify({
    job_id: jobId,
    state: job.state,
    events: all.length,
    terminal,
    replayed_from: middle,
    replays: replays.length,
    pages_processed: events.filter((e) => e.event === 'url_processed').length,
    elapsed: job.totals.elapsed,
    create_time: job.create_time,
    finish_time: job.finish_time,
    pages: listed.pages,
    calls: listed.calls,
    largest_chunk: listed.largestMessage,
    big,
    v1_big: v1Big,
    invalid,
    missing,
    bad_token: badToken,
    beyond,
  }) + '\n');
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
