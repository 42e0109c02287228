import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { signupTenant } from '../support/http';
import { useStack } from '../support/stack';

/**
 * Issue 15: a property-based fuzz pass over every operation of /docs-json (Schemathesis, installed by the
 * test command), as the admin of a fresh organization: no 5xx, every answer's status documented for its
 * operation, every answer matching its documented schema and content type. Zero failures is the bar.
 * Bounded: a fixed seed, a few examples per operation and a time budget.
 */
const FUZZ_SECONDS = Number(process.env.FUZZ_SECONDS ?? 150);
/** Runs made again after a run that only crashed inside Schemathesis (see below). */
const CRASH_RETRIES = 2;
const REPORT_DIR = resolve(__dirname, '../../.data/fuzz-report');

/** Operations left out, each for a reason: they do not answer a request with one response. */
const EXCLUDED = [
  // a server-sent event stream stays open until the client leaves
  '^/api/notifications/stream$',
  // WeCom's callback takes an XML body, on which Schemathesis 4.32.5 crashes in its own coverage phase
  // (KeyError); its refusals are tested by hand in wecom-connection.test.ts (signature, staleness, not XML, tampered)
  '^/api/wecom/callback/',
];

function run(cmd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    // run inside the report folder: Schemathesis keeps a cache (.schemathesis/) in its working folder
    const child = spawn(cmd, args, { cwd: REPORT_DIR, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', SCHEMATHESIS_TELEMETRY: 'false' } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => done({ code: null, output: `${output}\n${err.message}` }));
    child.on('exit', (code) => done({ code, output }));
  });
}

/**
 * Whether a failed run only crashed inside Schemathesis: no FAILURES section, and every entry of its ERRORS section
 * (one per operation, under a `____ METHOD /path ____` line) is the KeyError crash. An error of another kind (a
 * timeout, a refused connection) is a finding and is never retried away; output of another shape is not a crash.
 */
function crashedOnly(output: string): boolean {
  if (/^=+ FAILURES =+$/m.test(output)) return false;
  const errors = output.split(/^=+ ERRORS =+$/m)[1]?.split(/^=+ [A-Z][A-Za-z ]* =+$/m)[0] ?? '';
  const entries = errors.split(/^_{3,} .+ _{3,}$/m).slice(1);
  return entries.length > 0 && entries.every((entry) => /KeyError/.test(entry));
}

describe('fuzzing every operation of the OpenAPI document', () => {
  // a server error's stack is logged (only those: level error), so a failure in CI can be read at once
  const ctx = useStack({ env: { LOG_LEVEL: 'error' } });

  it('finds no server error, no undocumented status and no answer off its schema', async () => {
    const bin = process.env.SCHEMATHESIS;
    if (!bin) throw new Error('Schemathesis is not installed: run the tests with "npm test", which installs it from PyPI into ~/.cache/sop-engine (needs python3 with venv).');
    const t = await signupTenant(ctx.http, 'Fuzz');
    rmSync(REPORT_DIR, { recursive: true, force: true });
    mkdirSync(REPORT_DIR, { recursive: true });
    const fuzz = () => run(bin, [
      'run', `${ctx.stack.baseUrl}/docs-json`,
      '--header', `Authorization: Bearer ${t.adminToken}`,
      '--checks', 'not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance',
      '--phases', 'examples,coverage,fuzzing',
      '--max-examples', '8', '--seed', '15', '--max-time', String(FUZZ_SECONDS), '--workers', '2',
      '--max-redirects', '0', '--request-timeout', '20', '--suppress-health-check', 'all', '--warnings', 'off',
      // one option: a second --exclude-path-regex replaces the first
      '--exclude-path-regex', EXCLUDED.join('|'),
      '--report', 'junit', '--report-dir', REPORT_DIR,
    ]);
    let { code, output } = await fuzz();
    // Schemathesis 4.32.5 (the newest) now and then crashes inside its own coverage phase (a KeyError in its code,
    // listed under ERRORS, on an operation that passes on the next run; twice in a row once, on a loaded machine):
    // that is not a finding about our API, so such a run is made again, up to CRASH_RETRIES times. Any FAILURES (a
    // finding) fail at once; a crash in every run fails too. Each crashed run's report is kept.
    for (let retry = 1; retry <= CRASH_RETRIES && code !== 0 && crashedOnly(output); retry++) {
      writeFileSync(join(REPORT_DIR, `schemathesis-crashed-${retry}.log`), output);
      ({ code, output } = await fuzz());
    }
    // the whole report beside the test results, so a failure can be read and reproduced
    const log = join(REPORT_DIR, 'schemathesis.log');
    writeFileSync(log, output);
    if (code !== 0) {
      const failures = output.split('\n').filter((l) => /^(_{3,}|\s*\d+\. |- |\[\d{3}\]|FAILURES|.*Server error|.*Undocumented|.*not match)/.test(l));
      throw new Error(`Schemathesis failed (exit ${code}); report in .data/fuzz-report/schemathesis.log:\n${failures.slice(0, 80).join('\n') || output.slice(-6000)}`);
    }
    expect(readFileSync(log, 'utf8')).toMatch(/passed|No issues found/i);
  }, ((CRASH_RETRIES + 1) * FUZZ_SECONDS + 180) * 1000);
});
