// The board in a real browser: a real coordinator and agent, a real sweep,
// headless Chromium driven by playwright-core. Screenshots of every page go
// to $GAUNTLET_ARTIFACTS.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require(process.env.PLAYWRIGHT_CORE);

const bin = process.env.GAUNTLET_BIN_DIR;
const dir = fs.mkdtempSync(path.join(process.env.GAUNTLET_TEST_TMP, 'browser-'));
const shots = process.env.GAUNTLET_ARTIFACTS;
fs.mkdirSync(shots, { recursive: true });
const processes = [];
let base, grpc, browser, page;

const sweep = `
name: browser-check
jobs:
  - name: compile
    kind: exec
    matrix: {dtype: [fp16, bf16]}
    labels: {model: "<script>window.pwned=1</script>llama-8b", stage: compile, tp: "1", context: "4096"}
    command: "echo compiling \${dtype}"
  - name: run
    kind: exec
    depends_on: compile
    matrix: {dtype: [fp16, bf16]}
    labels: {model: "<script>window.pwned=1</script>llama-8b", stage: run, tp: "1", context: "4096"}
    command: "sleep 2; test \${dtype} = fp16 || (echo numerics mismatch; exit 3)"
  - name: bench
    kind: exec
    labels: {model: granite-8b, stage: benchmark, tp: "4", dtype: fp16, context: "4096"}
    command: "echo '{\\"verdict\\":\\"pass\\",\\"metrics\\":{\\"ttft_ms\\":120,\\"itl_ms\\":21}}' > $GAUNTLET_OUT/result.json"
  - name: bench-retry
    kind: exec
    max_attempts: 2
    labels: {model: granite-8b, stage: benchmark, tp: "2", dtype: bf16, context: "8192", attention: paged_fp8}
    command: >-
      if [ -f ${dir}/bench-once ]; then
      echo '{"verdict":"pass","metrics":{"ttft_ms":46.7,"itl_ms":9}}' > $GAUNTLET_OUT/result.json;
      else touch ${dir}/bench-once; echo '{"metrics":{"ttft_ms":90.5,"itl_ms":30}}' > $GAUNTLET_OUT/result.json;
      exit 1; fi
  - name: slow
    kind: exec
    command: "for i in $(seq 1 40); do echo tick $i; sleep 0.25; done"
  - name: serve
    kind: exec
    matrix: {tp: [1, 2]}
    devices: \${tp}
    labels: {model: vllm-tiny, stage: benchmark, dtype: bf16, tp: "\${tp}", context: "4096"}
    targets: {itl_ms: 15}
    command: >-
      echo "{\\"verdict\\":\\"pass\\",\\"metrics\\":{\\"ttft_ms\\":5,\\"itl_ms\\":$((10 * \${tp}))}}" > $GAUNTLET_OUT/result.json
  - name: unit-tests
    kind: exec
    command: >-
      printf '<testsuite><testcase classname="m" name="test_ok" time="0.5"/><testcase classname="m" name="test_bad"><failure message="boom"/></testcase></testsuite>' > $GAUNTLET_OUT/r.xml
    results: [{format: junit, path: r.xml}]
`;

function start(args, log) {
  const child = spawn(args[0], args.slice(1), { stdio: ['ignore', fs.openSync(log, 'w'), fs.openSync(log, 'a')] });
  processes.push(child);
  return child;
}

async function until(what, check, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function cli(...args) {
  return execFileSync(path.join(bin, 'gauntlet'), ['--coordinator', grpc, ...args], { encoding: 'utf8' });
}

before(async () => {
  const ready = path.join(dir, 'ready');
  start([path.join(bin, 'gauntlet-coordinator'), '--db', path.join(dir, 'db'), '--artifacts', path.join(dir, 'art'),
         '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--ready-file', ready], path.join(dir, 'coordinator.log'));
  await until('the coordinator', () => fs.existsSync(ready));
  const ports = JSON.parse(fs.readFileSync(ready, 'utf8'));
  base = `http://127.0.0.1:${ports.http}`;
  grpc = `127.0.0.1:${ports.grpc}`;
  start([path.join(bin, 'gauntlet-agent'), '--coordinator', grpc, '--name', 'node-a', '--devices', 'cpu:4',
         '--workdir', path.join(dir, 'agent')], path.join(dir, 'agent.log'));
  await until('the agent', () => cli('agents').includes('node-a'));
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
});

after(async () => {
  if (browser) await browser.close();
  for (const child of processes) child.kill('SIGKILL');
});

test('the matrix fills in live and escapes names', async () => {
  // Open the board before the sweep exists: every cell must arrive by live updates.
  await page.goto(base + '/');
  await page.evaluate(() => { window.stillThisPage = true; });
  const specFile = path.join(dir, 'sweep.yaml');
  fs.writeFileSync(specFile, sweep);
  cli('submit', specFile);
  // The first page had no sweep selected; follow the new one.
  await page.goto(base + '/');
  await page.evaluate(() => { window.stillThisPage = true; });
  const model = page.locator('tbody.model', { hasText: 'llama-8b' });
  await until('the sweep on the page', async () => (await model.count()) > 0);
  const initial = await model.locator('tr', { hasText: 'bf16' }).textContent();
  assert.doesNotMatch(initial, /FAIL/, 'the run takes 2 s, so the page must see it change');
  await until('run cells', async () => (await model.locator('tr', { hasText: 'bf16' }).textContent()).includes('FAIL'));
  await until('pass cells', async () => (await model.locator('tr', { hasText: 'fp16' }).textContent()).includes('PASS'));
  const bf16 = await model.locator('tr', { hasText: 'bf16' }).locator('td.cell:not(.empty)').allTextContents();
  assert.deepStrictEqual(bf16.map((t) => t.trim()), ['PASS', 'FAIL'], 'compile passes and run fails for bf16');
  const fp16 = await model.locator('tr', { hasText: 'fp16' }).locator('td.cell:not(.empty)').allTextContents();
  assert.deepStrictEqual(fp16.map((t) => t.trim()), ['PASS', 'PASS']);
  assert.strictEqual(await page.evaluate(() => window.stillThisPage), true, 'updated without a reload');
  // The model name is text, not markup.
  assert.strictEqual(await page.evaluate(() => window.pwned), undefined);
  assert.match(await model.locator('th.model').textContent(), /<script>window\.pwned=1<\/script>llama-8b/);
  await page.screenshot({ path: path.join(shots, 'matrix.png'), fullPage: true });

  // A model group collapses to its first row.
  assert.strictEqual(await model.locator('tr:visible').count(), 2);
  await model.locator('button.toggle').click();
  assert.strictEqual(await model.locator('tr:visible').count(), 1);
  await model.locator('button.toggle').click();
  assert.strictEqual(await model.locator('tr:visible').count(), 2);

  // A FAIL cell links to its jobs, whose reason says why.
  await model.locator('tr', { hasText: 'bf16' }).locator('td.cell.fail a').click();
  await page.waitForSelector('table.list');
  assert.match(await page.textContent('table.list'), /exited with code 3/);
});

test('a running job\'s log grows on its page without a reload', async () => {
  const slow = JSON.parse(cli('--json', 'jobs', '--state', 'running')).jobs.find((j) => j.name === 'slow')
    || JSON.parse(cli('--json', 'jobs')).jobs.find((j) => j.name === 'slow');
  await page.goto(`${base}/jobs/${slow.id}`);
  await page.evaluate(() => { window.stillThisPage = true; });
  const first = (await page.textContent('#log')).length;
  await until('the log to grow', async () => (await page.textContent('#log')).length > first + 20);
  assert.strictEqual(await page.evaluate(() => window.stillThisPage), true);
  await page.screenshot({ path: path.join(shots, 'job.png'), fullPage: true });
  await until('the job to finish', async () => (await page.textContent('#job-state')).includes('succeeded'), 30000);
  // The agent uploads the whole log before it reports the end, so once the
  // job is done the server holds every line...
  const stored = await (await fetch(`${base}/api/v1/jobs/${slow.id}/log`)).text();
  assert.match(stored, /tick 40\n$/);
  // ...and the page, whose state and log poll on separate timers, shows them
  // on its next log poll.
  await until('the last line on the page', async () => /tick 40/.test(await page.textContent('#log')));
});

test('exec jobs take matrix values in devices and targets, and show their test cases', async () => {
  const jobs = () => JSON.parse(cli('--json', 'jobs', '--all')).jobs;
  const done = (job) => job && ['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED'].includes(job.state);
  await until('the exec jobs', () => ['serve[tp=1]', 'serve[tp=2]', 'unit-tests']
    .every((name) => done(jobs().find((job) => job.name === name))));
  // tp 2 takes 20 ms per token, over its 15 ms target: a FAIL cell in its own row.
  await page.goto(base + '/');
  const serving = page.locator('tbody.model', { hasText: 'vllm-tiny' });
  assert.strictEqual(await serving.locator('tr').count(), 2, 'one row per TP size, from ${tp} in the labels');
  await serving.locator('td.cell.fail a').click();
  await page.waitForSelector('table.list');
  assert.match(await page.textContent('table.list'), /target missed: itl_ms 20 is over the target 15/);
  // tp 1 met it and is on the benchmark page with its target.
  await page.goto(base + '/benchmarks');
  assert.match(await page.locator('#benchmarks tr', { hasText: 'vllm-tiny' }).textContent(), /\(5, 10\)/);

  const tests = jobs().find((job) => job.name === 'unit-tests');
  await page.goto(`${base}/jobs/${tests.id}`);
  assert.match(await page.textContent('#test-counts'), /1 passed.*1 failed/);
  assert.deepStrictEqual((await page.locator('#test-cases tbody tr td:nth-child(2)').allTextContents()),
                         ['test_bad', 'test_ok'], 'the failed case first');
  assert.match(await page.textContent('.reason'), /1 of 2 tests failed: test_bad \(boom\)/);
  await page.screenshot({ path: path.join(shots, 'job-tests.png'), fullPage: true });
});

test('sweeps, benchmarks and agents pages', async () => {
  await page.goto(base + '/sweeps');
  assert.match(await page.textContent('#sweeps'), /browser-check/);
  await page.screenshot({ path: path.join(shots, 'sweeps.png'), fullPage: true });
  await page.click('#sweeps a');
  assert.match(await page.textContent('#summary'), /benchmark/);
  await page.screenshot({ path: path.join(shots, 'sweep.png'), fullPage: true });

  await page.goto(base + '/benchmarks');
  assert.match(await page.textContent('#benchmarks'), /\(120, 21\)/);
  // The retried benchmark: its failed first attempt measured 90.5 ms; only
  // the attempt that succeeded counts, in a row with its attention type.
  await until('the retried benchmark', () => JSON.parse(cli('--json', 'jobs', '--all')).jobs
    .some((job) => job.name === 'bench-retry' && job.state === 'JOB_STATE_SUCCEEDED'));
  await page.goto(base + '/benchmarks');
  const retried = page.locator('#benchmarks tr', { hasText: 'paged_fp8' });
  assert.match(await retried.textContent(), /\(46\.7, 9\)/);
  assert.doesNotMatch(await page.textContent('#benchmarks'), /90\.5/);
  assert.deepStrictEqual(await page.locator('#benchmarks thead th').allTextContents().then((t) => t.slice(0, 6)),
                         ['model', 'dtype', 'TP', 'attention', 'context', 'program']);
  await page.waitForSelector('#chart canvas');
  await page.waitForSelector('#chart-itl canvas');
  await page.screenshot({ path: path.join(shots, 'benchmarks.png'), fullPage: true });

  await page.goto(base + '/agents');
  assert.match(await page.textContent('#agents'), /node-a/);
  await page.click('#agents button:has-text("drain")');
  await page.waitForURL(base + '/agents');
  assert.match(await page.textContent('#agents'), /drained/);
  await page.screenshot({ path: path.join(shots, 'agents.png'), fullPage: true });
});

test('unknown ids and bad parameters get error pages', async () => {
  const missing = await page.goto(base + '/jobs/999999');
  assert.strictEqual(missing.status(), 404);
  assert.match(await page.textContent('h1'), /Not found/);
  const bad = await page.goto(base + '/?sweep=abc');
  assert.strictEqual(bad.status(), 400);
  assert.match(await page.textContent('main'), /sweep 'abc' must be a non-negative integer/);
  await page.screenshot({ path: path.join(shots, 'error.png') });
});

test('issue links show in the matrix', async () => {
  cli('annotate', '--model', 'granite-8b', '--title', 'IREE-18864', 'https://github.com/iree-org/iree/issues/18864');
  await page.goto(base + '/');
  const link = page.locator('tbody.model', { hasText: 'granite-8b' }).locator('a.issue');
  assert.strictEqual(await link.getAttribute('href'), 'https://github.com/iree-org/iree/issues/18864');
});

test('a full artifact store shows on the job page, as a banner and in /metrics', async () => {
  // A farm of its own whose artifact store holds 4 KiB: the job's 64 KiB output cannot be stored.
  const full = path.join(dir, 'full');
  fs.mkdirSync(full);
  const ready = path.join(full, 'ready');
  start([path.join(bin, 'gauntlet-coordinator'), '--db', path.join(full, 'db'), '--artifacts', path.join(full, 'art'),
         '--max-artifact-bytes', '4096', '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--ready-file', ready],
        path.join(full, 'coordinator.log'));
  await until('the second coordinator', () => fs.existsSync(ready));
  const ports = JSON.parse(fs.readFileSync(ready, 'utf8'));
  const fullBase = `http://127.0.0.1:${ports.http}`;
  const fullGrpc = `127.0.0.1:${ports.grpc}`;
  start([path.join(bin, 'gauntlet-agent'), '--coordinator', fullGrpc, '--name', 'node-full', '--devices', 'cpu:1',
         '--workdir', path.join(full, 'agent')], path.join(full, 'agent.log'));
  const specFile = path.join(full, 'sweep.yaml');
  fs.writeFileSync(specFile, 'name: big-output\njobs:\n  - name: writer\n    kind: exec\n' +
                   '    command: "head -c 65536 /dev/zero > $GAUNTLET_OUT/blob.bin"\n');
  execFileSync(path.join(bin, 'gauntlet'), ['--coordinator', fullGrpc, 'submit', specFile], { encoding: 'utf8' });
  await until('the job to say why it waits', async () => {
    await page.goto(fullBase + '/jobs/1');
    return (await page.locator('.reason').first().textContent().catch(() => '')).includes('artifact store full');
  }, 30000);
  const reason = await page.locator('p .reason').textContent();
  assert.match(reason, /waiting for storage: artifact store full: \d+ of 4096 bytes used/);
  assert.match(reason, /--max-artifact-bytes/, 'the reason says how to fix it');
  assert.match(await page.locator('#job-state').textContent(), /running/, 'the job is not lost: it waits');
  assert.match(await page.locator('#storage-alert').textContent(), /Storage is failing: artifact store full/);
  await page.screenshot({ path: path.join(shots, 'storage-full.png'), fullPage: true });
  await page.goto(fullBase + '/agents');
  assert.equal(await page.locator('#storage-alert').count(), 1, 'the banner shows on every page');
  const metrics = await (await fetch(fullBase + '/metrics')).text();
  const errors = Number((metrics.match(/^gauntlet_storage_errors_total (\d+)/m) || [])[1]);
  assert.ok(errors >= 1, metrics);
  const log = fs.readFileSync(path.join(full, 'coordinator.log'), 'utf8');
  assert.match(log, /storage failing \(\d+ failed writes since the last report\): artifact store full/);
});

test('with API tokens, the drain button needs an admin: refused signed out and as a viewer, done as an admin', async () => {
  // A farm of its own with tokens in force from the start and a public board.
  const locked = path.join(dir, 'locked');
  fs.mkdirSync(locked);
  const adminToken = 'gnt_' + 'b'.repeat(64);
  const adminFile = path.join(locked, 'admin-token');
  fs.writeFileSync(adminFile, adminToken + '\n', { mode: 0o600 });
  const ready = path.join(locked, 'ready');
  start([path.join(bin, 'gauntlet-coordinator'), '--db', path.join(locked, 'db'), '--artifacts', path.join(locked, 'art'),
         '--admin-token-file', adminFile, '--board-public', '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0',
         '--ready-file', ready], path.join(locked, 'coordinator.log'));
  await until('the locked coordinator', () => fs.existsSync(ready));
  const ports = JSON.parse(fs.readFileSync(ready, 'utf8'));
  const lockedBase = `http://127.0.0.1:${ports.http}`;
  const lockedGrpc = `127.0.0.1:${ports.grpc}`;
  const asAdmin = (...args) => execFileSync(path.join(bin, 'gauntlet'),
    ['--coordinator', lockedGrpc, '--token-file', adminFile, ...args], { encoding: 'utf8' });
  start([path.join(bin, 'gauntlet-agent'), '--coordinator', lockedGrpc, '--name', 'node-locked', '--devices', 'cpu:1',
         '--workdir', path.join(locked, 'agent')], path.join(locked, 'agent.log'));
  await until('the agent', () => asAdmin('agents').includes('node-locked'));
  const viewerToken = asAdmin('tokens', 'create', '--name', 'wall-screen', '--role', 'viewer').trim();

  const context = await browser.newContext();
  const tab = await context.newPage();
  await tab.goto(lockedBase + '/agents');
  assert.match(await tab.textContent('#agents'), /node-locked/, 'the public board reads without a token');
  const signedOut = tab.waitForResponse((r) => r.url().endsWith('/drain'));
  await tab.click('#agents button:has-text("drain")');
  assert.strictEqual((await signedOut).status(), 401);
  assert.match(await tab.textContent('main'), /needs an API token/);

  const signIn = async (token) => {
    await tab.goto(lockedBase + '/login?next=/agents');
    await tab.fill('#token', token);
    await tab.click('#login button');
    await tab.waitForURL(lockedBase + '/agents');
  };
  await signIn(viewerToken);
  const asViewer = tab.waitForResponse((r) => r.url().endsWith('/drain'));
  await tab.click('#agents button:has-text("drain")');
  assert.strictEqual((await asViewer).status(), 403);
  assert.match(await tab.textContent('main'), /needs a admin token; 'wall-screen' is a viewer/);
  await tab.screenshot({ path: path.join(shots, 'drain-refused.png'), fullPage: true });

  await signIn(adminToken);
  await tab.click('#agents button:has-text("drain")');
  await tab.waitForURL(lockedBase + '/agents');
  assert.match(await tab.textContent('#agents'), /drained/);
  await tab.goto(lockedBase + '/audit');
  const trail = await tab.textContent('#audit');
  assert.match(trail, /bootstrap-admin[\s\S]*DrainAgent/);
  assert.match(trail, /wall-screen[\s\S]*permission denied/);
  await tab.screenshot({ path: path.join(shots, 'audit.png'), fullPage: true });
  const cookies = await context.cookies();
  const cookie = cookies.find((c) => c.name === 'gauntlet_token');
  assert.ok(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', JSON.stringify(cookies));
  await context.close();
});

test('the Nightly page shows each night and classifies the second against the first', async () => {
  // Last: its sweeps are the newest, and the agents test drained node-a.
  cli('drain', 'node-a', '--undo');
  const night = path.join(dir, 'night');
  const is2 = `[ "$(cat ${night})" = 2 ]`;
  fs.writeFileSync(path.join(dir, 'bench.sh'), `if ${is2}; then itl="12.0, 12.1, 11.9, 12.2, 12.0"; tps="100, 99, 101, 100";
else itl="10.0, 10.2, 9.9, 10.1, 10.0"; tps="100, 101, 99, 100"; fi
printf '{"verdict": "pass", "metrics": {"itl_ms": 11}, "samples": {"itl_ms": [%s], "tokens_per_s": [%s]}}' "$itl" "$tps" > "$GAUNTLET_OUT/result.json"
`);
  fs.writeFileSync(path.join(dir, 'numerics.sh'), `if ${is2}; then printf '{"verdict": "fail"}' > "$GAUNTLET_OUT/result.json"; exit 1; fi\n`);
  fs.writeFileSync(path.join(dir, 'flaky.sh'),
    `if ${is2} && [ ! -f ${dir}/flaked ]; then touch ${dir}/flaked; exit 7; fi\n`);
  const spec = path.join(dir, 'nightly.yaml');
  fs.writeFileSync(spec, `
name: nightly-browser
schedule: {cron: "30 2 * * *", timezone: Europe/Zurich}
jobs:
  - {name: bench, kind: exec, command: "sh ${dir}/bench.sh"}
  - {name: numerics, kind: exec, command: "sh ${dir}/numerics.sh"}
  - {name: flaky, kind: exec, max_attempts: 2, command: "sh ${dir}/flaky.sh"}
`);
  assert.match(cli('submit', spec), /schedule nightly-browser set/);
  for (const n of ['1', '2']) {
    fs.writeFileSync(night, n);
    const sweepId = JSON.parse(cli('--json', 'schedules', 'run-now', 'nightly-browser')).sweepId;
    await until(`night ${n}`, () => JSON.parse(cli('--json', 'status', String(sweepId))).finished === true);
  }
  await page.goto(base + '/nightly');
  const row = page.locator('#schedules tr[data-schedule="nightly-browser"]');
  assert.match(await row.textContent(), /30 2 \* \* \*.*Europe\/Zurich/);
  assert.strictEqual(await page.locator('tr.firing[data-kind="run_now"]').count(), 2);
  assert.match(await page.locator('tr.firing').first().textContent(), /FAIL/, 'night two failed a job');
  await page.screenshot({ path: path.join(shots, 'nightly.png'), fullPage: true });

  await row.locator('a').click();
  await page.waitForSelector('#findings');
  const kind = async (job, metric = '') =>
    page.locator(`#findings tr[data-job="${job}"][data-metric="${metric}"]`).getAttribute('data-kind');
  assert.strictEqual(await kind('bench', 'itl_ms'), 'bench_regression');
  assert.strictEqual(await kind('bench', 'tokens_per_s'), 'unchanged');
  assert.strictEqual(await kind('numerics'), 'regression');
  assert.strictEqual(await kind('flaky'), 'flaky');
  assert.match(await page.locator('#findings tr[data-metric="itl_ms"]').textContent(), /\+19\.9%.*Welch/);
  await page.screenshot({ path: path.join(shots, 'nightly-schedule.png'), fullPage: true });

  // The bench job's history, night by night, from its finding's link.
  await page.locator('#findings tr[data-job="bench"][data-metric="itl_ms"] a.history').click();
  await page.waitForSelector('#test-history');
  const nights = page.locator('#test-history tr.night');
  assert.strictEqual(await nights.count(), 2);
  assert.strictEqual(await nights.first().getAttribute('data-outcome'), 'pass');
  assert.match(await nights.first().locator('td[data-metric="itl_ms"]').textContent(), /12\.04/);
  assert.match(await nights.nth(1).locator('td[data-metric="itl_ms"]').textContent(), /10\.04/);
  assert.strictEqual(
    await nights.first().locator('.verdict[data-metric="itl_ms"]').getAttribute('data-kind'), 'bench_regression');
  await page.screenshot({ path: path.join(shots, 'nightly-test-history.png'), fullPage: true });

  // The matrix filtered to the schedule shows its newest night, each change on its cell.
  await page.goto(base + '/');
  await page.selectOption('select[name=schedule]', 'nightly-browser');
  await page.locator('form.filters button').click();
  await page.waitForSelector('#matrix-baseline');
  assert.match(await page.locator('#matrix-baseline').textContent(), /Marked against the baseline/);
  const mark = async (job) => page.locator(`#matrix .mark[data-job="${job}"]`).getAttribute('data-mark');
  assert.strictEqual(await mark('numerics'), 'regression');
  assert.strictEqual(await mark('bench'), 'bench_regression');
  assert.strictEqual(await mark('flaky'), 'flaky');
  assert.match(await page.locator('#matrix .mark[data-job="bench"]').textContent(), /itl_ms \+19\.9%/);
  await page.screenshot({ path: path.join(shots, 'matrix-marks.png'), fullPage: true });
});
