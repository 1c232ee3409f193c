// Evaluate a witness on quickjs-ng compiled to wasm (quickjs-emscripten, release sync variant).
//
// usage: node wasm.mjs ENGINE_DIR WITNESS.js [--max-jobs N]
//   ENGINE_DIR holds package.json and node_modules with quickjs-emscripten-core and
//   @jitl/quickjs-ng-wasmfile-release-sync (specmc installs both there).
//
// The build exports no way to force a collection; none is needed, since objects without
// cycles are freed by reference counting as soon as the last reference goes.
//
// An exception that escapes a job (a cleanup callback that threw, as an engine reports it to
// its host) is printed as `witness: uncaught <name>: <message>` and the jobs go on, as a host's
// event loop would: one throwing callback must not hide what the engine does after it.
//
// exit status: 0 drained and the witness set globalThis.witnessDone; 1 a JS exception
// escaped the script's evaluation; 2 usage; 3 drained without witnessDone; 4 job bound exhausted;
// 5 wasm trap or abort while evaluating or running jobs; 6 wasm trap or abort while
// freeing the context or runtime. Traps are printed to stderr with their class
// (RuntimeError for a trap) so that specmc can tell a broken engine from a failing witness.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const argv = process.argv.slice(2);
let maxJobs = 100000;
const at = argv.indexOf('--max-jobs');
if (at >= 0) {
  maxJobs = Number(argv[at + 1]);
  argv.splice(at, 2);
}
if (argv.length !== 2 || !(maxJobs > 0)) {
  console.error('usage: node wasm.mjs ENGINE_DIR WITNESS.js [--max-jobs N]');
  process.exit(2);
}
const [engineDir, witnessPath] = argv;
const note = (msg) => process.stderr.write(`wasm: ${msg}\n`);

const load = createRequire(path.resolve(engineDir, 'package.json'));
const core = load('quickjs-emscripten-core');
const variant = load('@jitl/quickjs-ng-wasmfile-release-sync');
const source = fs.readFileSync(witnessPath, 'utf8');

let status = 0;
let stage = 'load';
try {
  const QuickJS = await core.newQuickJSWASMModuleFromVariant(variant.default ?? variant);
  const runtime = QuickJS.newRuntime();
  const vm = runtime.newContext();

  // Written synchronously (stdout is a file under specmc), so a later trap loses nothing.
  const print = vm.newFunction('print', (...handles) => {
    process.stdout.write(handles.map((h) => String(vm.dump(h))).join(' ') + '\n');
  });
  const console_ = vm.newObject();
  vm.setProp(console_, 'log', print);
  vm.setProp(console_, 'error', print);
  vm.setProp(vm.global, 'print', print);
  vm.setProp(vm.global, 'console', console_);
  console_.dispose();
  print.dispose();

  stage = 'eval';
  const result = vm.evalCode(source, path.basename(witnessPath));
  if (result.error) {
    note(`JS exception in the script: ${JSON.stringify(vm.dump(result.error))}`);
    result.error.dispose();
    status = 1;
  } else {
    result.value.dispose();
    stage = 'jobs';
    let jobs = 0;
    while (status === 0 && runtime.hasPendingJob()) {
      const step = runtime.executePendingJobs(1);
      if (step.error) {
        const e = step.error.context.dump(step.error);
        const what = e !== null && typeof e === 'object' && 'name' in e ? `${e.name}: ${e.message}` : String(e);
        process.stdout.write(`witness: uncaught ${what}\n`);
        note(`JS exception in job ${jobs + 1}, going on: ${JSON.stringify(e)}`);
        step.error.dispose();
        jobs += 1;
      } else {
        jobs += step.value;
      }
      if (jobs >= maxJobs) {
        note(`job bound ${maxJobs} exhausted`);
        status = 4;
      }
    }
    note(`queue drained after ${jobs} jobs`);
    if (status === 0) {
      const done = vm.getProp(vm.global, 'witnessDone');
      if (vm.dump(done) !== true) {
        note('the witness did not set globalThis.witnessDone = true');
        status = 3;
      }
      done.dispose();
    }
  }
  stage = 'dispose';
  vm.dispose();
  runtime.dispose();
} catch (e) {
  // A wasm trap (RuntimeError) or an emscripten abort lands here; the module is unusable after it.
  const kind = e?.constructor?.name ?? typeof e;
  note(`engine failure during ${stage}: ${kind}: ${e?.message ?? e}`);
  status = stage === 'dispose' ? 6 : 5;
}
process.exitCode = status;
