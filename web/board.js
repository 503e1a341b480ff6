// Live updates for the board. Pages are complete without this script; it
// follows /api/v1/events and re-fetches the server-rendered content when
// something changes, follows a running job's log, and draws the benchmark chart.
(function () {
  'use strict';
  const content = document.getElementById('content');
  const live = document.getElementById('live');
  const log = document.getElementById('log');
  let refreshTimer = null;

  function fragmentUrl() {
    const url = new URL(window.location.href);
    url.searchParams.set('fragment', '1');
    return url;
  }

  async function refresh() {
    refreshTimer = null;
    // The log keeps its own position; everything else is re-rendered.
    const keepLog = log && document.getElementById('log');
    const response = await fetch(fragmentUrl(), { cache: 'no-store' });
    if (!response.ok) return;
    const html = await response.text();
    if (keepLog) {
      const scratch = document.createElement('div');
      scratch.innerHTML = html;
      const fresh = scratch.querySelector('#log');
      if (fresh) fresh.replaceWith(keepLog);
      content.replaceChildren(...scratch.childNodes);
    } else {
      content.innerHTML = html;
    }
    wireToggles();
  }

  // Model groups of the matrix collapse; which ones survives live refreshes.
  const collapsed = new Set();
  function wireToggles() {
    for (const group of document.querySelectorAll('tbody.model')) {
      const model = group.dataset.model;
      group.classList.toggle('collapsed', collapsed.has(model));
      const toggle = group.querySelector('.toggle');
      if (!toggle) continue;
      toggle.hidden = false;
      toggle.onclick = () => {
        if (collapsed.has(model)) collapsed.delete(model); else collapsed.add(model);
        group.classList.toggle('collapsed', collapsed.has(model));
      };
    }
  }

  function scheduleRefresh() {
    if (!refreshTimer) refreshTimer = setTimeout(refresh, 300);
  }

  function follow() {
    if (!window.EventSource) return;
    const after = document.body.dataset.lastEvent || '0';
    const events = new EventSource('/api/v1/events?after=' + encodeURIComponent(after));
    events.onopen = () => live.classList.add('on');
    events.onerror = () => live.classList.remove('on');
    events.onmessage = scheduleRefresh;
    for (const kind of ['submitted', 'leased', 'running', 'succeeded', 'failed', 'ready', 'cancelled', 'skipped',
                        'retried', 'agent', 'annotated', 'cached']) {
      events.addEventListener(kind, scheduleRefresh);
    }
  }

  async function followLog() {
    if (!log) return;
    let offset = Number(log.dataset.offset || 0);
    let attempt = Number(log.dataset.attempt || 0);
    let finished = log.dataset.live !== '1';
    while (true) {
      const url = `/api/v1/jobs/${log.dataset.job}/log?offset=${offset}&attempt=${attempt}`;
      const response = await fetch(url, { cache: 'no-store' });
      if (response.ok) {
        const text = await response.text();
        if (text) {
          const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
          log.textContent += text;
          if (atBottom) log.scrollTop = log.scrollHeight;
        }
        offset = Number(response.headers.get('X-Log-Offset') || offset);
        attempt = Number(response.headers.get('X-Log-Attempt') || attempt);
        finished = response.headers.get('X-Log-Finished') === '1';
        if (finished && !text) {
          // A retry starts a new attempt: follow it when the job is not done.
          const job = await (await fetch(`/api/v1/jobs/${log.dataset.job}`)).json();
          const done = ['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED', 'JOB_STATE_SKIPPED',
                        'JOB_STATE_CACHED'].includes(job.state);
          if (done) return;
          const latest = job.attempts.length ? Number(job.attempts[job.attempts.length - 1].id) : 0;
          if (latest && latest !== attempt) {
            attempt = latest;
            offset = 0;
            log.textContent += `\n--- attempt ${job.attempts.length} ---\n`;
          }
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  // One chart per metric: each series' line, its target dashed, its noise
  // band shaded (the level's mean ± 2 sd, from the change detector) and a
  // dot on each change point.
  function drawChart(target, points, metric, label) {
    if (!target || !window.uPlot) return;
    const days = [...new Set(points.map((p) => p.day))].sort();
    const x = days.map((d) => Date.parse(d + 'T00:00:00Z') / 1000);
    const seriesNames = [...new Set(points.map((p) => `${p.model} ${p.series}`))];
    const data = [x];
    const series = [{}];
    const bands = [];
    const palette = ['#1565c0', '#2e7d32', '#6a1b9a', '#ef6c00', '#00838f', '#ad1457'];
    const at = (byDay, d, pick) => (byDay.has(d) ? pick(byDay.get(d)) : null);
    seriesNames.forEach((name, i) => {
      const colour = palette[i % palette.length];
      const byDay = new Map(points.filter((p) => `${p.model} ${p.series}` === name).map((p) => [p.day, p]));
      const mark = (p) => p[metric.mark] || {};
      data.push(days.map((d) => at(byDay, d, (p) => p[metric.value] || null)));
      series.push({ label: `${label} ${name}`, stroke: colour, width: 2 });
      const high = days.map((d) => at(byDay, d, (p) => (mark(p).bandHigh !== undefined ? mark(p).bandHigh : null)));
      const low = days.map((d) => at(byDay, d, (p) => (mark(p).bandLow !== undefined ? mark(p).bandLow : null)));
      if (high.some((v) => v !== null)) {
        data.push(high, low);
        series.push({ label: `band high ${name}`, stroke: 'transparent', points: { show: false } },
          { label: `band low ${name}`, stroke: 'transparent', points: { show: false } });
        bands.push({ series: [series.length - 2, series.length - 1], fill: colour + '22' });
      }
      const changes = days.map((d) => at(byDay, d, (p) => (mark(p).change ? p[metric.value] : null)));
      if (changes.some((v) => v !== null)) {
        data.push(changes);
        series.push({ label: `change ${name}`, stroke: colour, paths: () => null,
          points: { show: true, size: 12, stroke: '#c62828', fill: '#fff', width: 3 } });
      }
      const targets = days.map((d) => at(byDay, d, (p) => (p[metric.target] > 0 ? p[metric.target] : null)));
      if (targets.some((t) => t !== null)) {
        data.push(targets);
        series.push({ label: `target ${name}`, stroke: colour, dash: [6, 4], width: 1 });
      }
    });
    const width = Math.min(target.clientWidth || 900, 1100);
    new window.uPlot({ width, height: 280, series, bands, axes: [{}, { label: `${label} ms` }] }, data, target);
    target.dataset.drawn = String(seriesNames.length);
  }

  async function chart() {
    const ttft = document.getElementById('chart');
    if (!ttft || !window.uPlot) return;
    const { points } = await (await fetch('/api/v1/benchmarks')).json();
    if (!points.length) return;
    drawChart(ttft, points, { value: 'ttftMs', mark: 'ttft', target: 'ttftTargetMs' }, 'TTFT');
    drawChart(document.getElementById('chart-itl'), points, { value: 'itlMs', mark: 'itl', target: 'itlTargetMs' },
      'ITL');
  }

  wireToggles();
  follow();
  followLog();
  chart();
})();
