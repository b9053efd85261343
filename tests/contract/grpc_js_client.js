// A client nobody here wrote the stack of: Node.js @grpc/grpc-js with @grpc/proto-loader
// loading proto/ as any outside user would, every channel option at its default (so a
// 4 MiB receive limit). Run by tests/contract/test_grpc_js.py against the real services:
//
//   node grpc_js_client.js --target HOST:PORT --url URL --proto DIR --googleapis DIR
//
// It starts a job, reads its whole event stream as raw bytes, replays it from the middle
// (and 20 replays at once) and checks each replay is byte-for-byte the tail of the first
// read, then provokes errors and decodes grpc-status-details-bin as google.rpc.Status.
// Prints one JSON object with what it saw; exits 1 on any failed check.
'use strict';

const assert = require('node:assert/strict');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

function args() {
  const out = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  for (const key of ['target', 'url', 'proto', 'googleapis']) {
    if (!out[key]) throw new Error(`missing --${key}`);
  }
  return out;
}

const opts = args();
const DEADLINE_MS = 120_000;
const deadline = () => new Date(Date.now() + DEADLINE_MS);

// Typed stubs, the way a user loads the contract.
const definition = protoLoader.loadSync(
  ['docspasta/v1/orchestrator.proto', 'docspasta/v1/processor.proto'],
  { includeDirs: [opts.proto], keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
const v1 = grpc.loadPackageDefinition(definition).docspasta.v1;
const orchestrator = new v1.Orchestrator(opts.target, grpc.credentials.createInsecure());

// protobufjs types for decoding raw bytes and error details.
const root = new protobuf.Root();
root.resolvePath = (origin, target) => {
  for (const dir of [opts.proto, opts.googleapis]) {
    const candidate = path.join(dir, target);
    if (require('node:fs').existsSync(candidate)) return candidate;
  }
  return protobuf.util.path.resolve(origin, target);
};
root.loadSync(['docspasta/v1/orchestrator.proto', 'google/rpc/status.proto', 'google/rpc/error_details.proto'],
  { keepCase: true });
root.resolveAll();
const JobEvent = root.lookupType('docspasta.v1.JobEvent');
const JobEventsRequest = root.lookupType('docspasta.v1.JobEventsRequest');
const Status = root.lookupType('google.rpc.Status');
const DETAIL_TYPES = ['google.rpc.ErrorInfo', 'google.rpc.BadRequest', 'google.rpc.RetryInfo']
  .map((name) => root.lookupType(name));

// The same method with raw bytes in and out, to compare what the server sent exactly.
const Raw = grpc.makeGenericClientConstructor({
  JobEvents: {
    path: '/docspasta.v1.Orchestrator/JobEvents',
    requestStream: false,
    responseStream: true,
    requestSerialize: (message) => Buffer.from(JobEventsRequest.encode(message).finish()),
    requestDeserialize: (bytes) => bytes,
    responseSerialize: (bytes) => bytes,
    responseDeserialize: (bytes) => bytes,
  },
}, 'RawOrchestrator');
const raw = new Raw(opts.target, grpc.credentials.createInsecure());

function unary(method, request) {
  return new Promise((resolve, reject) => {
    orchestrator[method](request, { deadline: deadline() }, (err, reply) => (err ? reject(err) : resolve(reply)));
  });
}

function readEvents(afterSequence) {
  return new Promise((resolve, reject) => {
    const frames = [];
    const call = raw.JobEvents(JobEventsRequest.create({ job_id: jobId, after_sequence: afterSequence }),
      { deadline: deadline() });
    call.on('data', (bytes) => frames.push(Buffer.from(bytes)));
    call.on('error', reject);
    call.on('end', () => resolve(frames));
  });
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

async function expectError(method, request) {
  try {
    await unary(method, request);
  } catch (err) {
    return { grpcCode: err.code, status: decodeDetails(err) };
  }
  throw new Error(`${method} succeeded; an error was expected`);
}

let jobId = '';

async function main() {
  const started = await unary('StartJob', { url: opts.url, options: { max_pages: 50 } });
  jobId = started.job_id;
  assert.match(jobId, /\S/);

  const all = await readEvents(0);
  const events = all.map((bytes) => JobEvent.decode(bytes));
  events.forEach((event, i) => assert.equal(event.sequence, i + 1, 'sequences 1..N without gaps'));
  const terminal = events[events.length - 1].event;
  assert.ok(['job_completed', 'job_failed', 'job_timeout', 'job_cancelled'].includes(terminal), terminal);

  const middle = Math.floor(all.length / 2);
  const replays = await Promise.all(Array.from({ length: 20 }, () => readEvents(middle)));
  for (const replay of replays) {
    assert.equal(replay.length, all.length - middle);
    replay.forEach((bytes, i) => assert.ok(bytes.equals(all[middle + i]), `event ${middle + i + 1} differs`));
  }

  const job = await unary('GetJob', { job_id: jobId });
  const invalid = await expectError('StartJob', { url: 'ftp://example.com/' });
  const missing = await expectError('GetJob', { job_id: 'no-such-job-0000' });
  let beyond = null;
  try {
    await readEvents(job.last_sequence + 5);
  } catch (err) {
    beyond = { grpcCode: err.code, status: decodeDetails(err) };
  }

  process.stdout.write(JSON.stringify({
    job_id: jobId,
    state: job.state,
    events: all.length,
    event_bytes: all.reduce((n, b) => n + b.length, 0),
    terminal,
    replayed_from: middle,
    replays: replays.length,
    pages_processed: events.filter((e) => e.event === 'url_processed').length,
    invalid,
    missing,
    beyond,
  }) + '\n');
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
