// The dashboard's page: tabs over the JSON API, refreshed every 2 s. Text from telemetry goes through
// textContent only (never innerHTML): any local process can send span names and log bodies.
'use strict';

const REFRESH_MS = 2000;
const REQUEST_TIMEOUT_MS = 5000;

const state = {
  tab: 'resources',
  traceId: null,
  traceSignature: null,
  metric: null,
  consoleResource: null,
  busy: false,
  again: false,
};

function $(id) { return document.getElementById(id); }

function cell(text, className) {
  const td = document.createElement('td');
  if (className) td.className = className;
  if (text instanceof Node) td.appendChild(text); else td.textContent = text ?? '';
  return td;
}

function badge(text, className) {
  const span = document.createElement('span');
  span.className = `badge ${className}`;
  span.textContent = text;
  return span;
}

function time(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleTimeString();
}

async function getJson(path) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  try {
    const response = await fetch(path, { signal: controller.signal, headers: { Accept: 'application/json' } });
    if (response.status === 404) return null;
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return await response.json();
  } finally {
    clearTimeout(timer);
  }
}

// Keeps a <select>'s options equal to values, without disturbing the user's choice when nothing changed.
function syncOptions(select, values, keepFirst) {
  const fixed = keepFirst ? 1 : 0;
  const current = [...select.options].slice(fixed).map(o => o.value);
  if (current.length === values.length && current.every((v, i) => v === values[i])) return;
  const chosen = select.value;
  while (select.options.length > fixed) select.remove(fixed);
  for (const value of values) select.add(new Option(value, value));
  if ([...select.options].some(o => o.value === chosen)) select.value = chosen;
}

async function refreshResources() {
  const resources = await getJson('/api/resources') ?? [];
  const body = $('resources-table').tBodies[0];
  body.replaceChildren(...resources.map(r => {
    const row = document.createElement('tr');
    row.dataset.testid = 'resource-row';
    row.dataset.resource = r.name;
    row.className = 'clickable';
    const endpoints = document.createElement('div');
    for (const endpoint of r.endpoints) {
      const link = document.createElement('a');
      link.className = 'endpoint mono';
      link.textContent = `${endpoint.name}: ${endpoint.url}`;
      if (/^https?:\/\//.test(endpoint.url)) {
        link.href = endpoint.url;
        link.target = '_blank';
        link.rel = 'noopener noreferrer';
      }
      link.addEventListener('click', e => e.stopPropagation());
      endpoints.appendChild(link);
    }
    row.append(
      cell(r.name, 'resource-name'),
      cell(r.type, 'resource-type'),
      cell(badge(r.state, `state-${r.state}`), 'resource-state'),
      cell(badge(r.health, `health-${r.health}`), 'resource-health'),
      cell(endpoints, 'resource-endpoints'),
      cell(String(r.restarts), 'resource-restarts'),
      cell(r.pid == null ? '' : String(r.pid), 'resource-pid mono'),
      cell(time(r.startedAt), 'resource-started'));
    row.addEventListener('click', () => { state.consoleResource = r.name; selectTab('console'); });
    return row;
  }));
  $('resources-empty').hidden = resources.length > 0;
  return resources;
}

async function refreshConsole() {
  const resources = await getJson('/api/resources') ?? [];
  const select = $('console-resource');
  syncOptions(select, resources.map(r => r.name), false);
  if (state.consoleResource && select.value !== state.consoleResource) select.value = state.consoleResource;
  state.consoleResource = select.value || null;
  const output = $('console-output');
  if (!state.consoleResource) { output.replaceChildren(); return; }
  const logs = await getJson(`/api/resources/${encodeURIComponent(state.consoleResource)}/logs?tail=1000`);
  const atBottom = output.scrollHeight - output.scrollTop - output.clientHeight < 24;
  output.replaceChildren(...(logs?.lines ?? []).map(line => {
    const div = document.createElement('div');
    div.className = `console-line${line.isError ? ' stderr' : ''}`;
    const seq = document.createElement('span');
    seq.className = 'seq';
    seq.textContent = String(line.sequence);
    div.append(seq, document.createTextNode(line.text));
    return div;
  }));
  $('console-count').textContent = logs ? `${logs.lines.length} of ${logs.totalLines} lines` : '';
  if (atBottom) output.scrollTop = output.scrollHeight;
}

async function refreshTraces() {
  const traces = await getJson('/api/traces?limit=200') ?? [];
  const body = $('traces-table').tBodies[0];
  body.replaceChildren(...traces.map(t => {
    const row = document.createElement('tr');
    row.className = `clickable${t.traceId === state.traceId ? ' selected' : ''}`;
    row.dataset.testid = 'trace-row';
    row.dataset.traceId = t.traceId;
    const services = document.createElement('span');
    services.append(...t.services.map(Waterfall.serviceTag));
    row.append(
      cell(time(t.start)),
      cell(t.rootName, 'trace-root'),
      cell(services, 'trace-services'),
      cell(String(t.spanCount), 'trace-span-count'),
      cell(Waterfall.ms(t.durationMs)),
      cell(t.traceId.slice(0, 12), 'mono'));
    row.addEventListener('click', () => openTrace(t.traceId));
    return row;
  }));
  $('traces-empty').hidden = traces.length > 0;
  if (state.traceId) await refreshTraceDetail(false);
}

async function openTrace(traceId) {
  state.traceId = traceId;
  state.traceSignature = null;
  history.replaceState(null, '', `#traces/${traceId}`);
  document.querySelectorAll('#traces-table tbody tr').forEach(r => r.classList.toggle('selected', r.dataset.traceId === traceId));
  await refreshTraceDetail(true);
}

async function refreshTraceDetail(force) {
  const trace = await getJson(`/api/traces/${encodeURIComponent(state.traceId)}`);
  const detail = $('trace-detail');
  if (!trace) { detail.hidden = true; return; }
  // Re-render only when spans arrived: a re-render would drop the user's selected span.
  const signature = `${trace.traceId}:${trace.spans.length}:${trace.durationMs}`;
  if (!force && signature === state.traceSignature) return;
  state.traceSignature = signature;
  detail.hidden = false;
  detail.dataset.traceId = trace.traceId;
  $('trace-title').textContent = `${trace.spans[0]?.name ?? ''} — ${trace.spans.length} spans, ${Waterfall.ms(trace.durationMs)}`;
  $('trace-legend').replaceChildren(...trace.services.map(Waterfall.serviceTag));
  $('span-details').replaceChildren();
  Waterfall.render($('waterfall'), trace, showSpan);
}

function showSpan(span) {
  const table = document.createElement('table');
  table.dataset.testid = 'span-attributes';
  const rows = [['service', span.service], ['name', span.name], ['kind', span.kind], ['status', span.status + (span.statusMessage ? `: ${span.statusMessage}` : '')],
    ['span id', span.spanId], ['parent', span.parentSpanId ?? '(root)'], ['start', `+${Waterfall.ms(span.startOffsetMs)}`], ['duration', Waterfall.ms(span.durationMs)],
    ...Object.entries(span.attributes)];
  for (const [key, value] of rows) {
    const row = document.createElement('tr');
    row.append(cell(key, 'mono'), cell(value, 'mono'));
    table.appendChild(row);
  }
  $('span-details').replaceChildren(table);
}

async function refreshMetrics() {
  const [curves, metrics] = await Promise.all([getJson('/api/curves'), getJson('/api/metrics')]);
  $('curves').replaceChildren(...(curves?.definitions ?? []).map(definition => Charts.lineChart({
    title: definition.label,
    metric: definition.metric,
    xLabel: 'step',
    integerX: true,
    series: curves.curves.filter(c => c.metric === definition.metric).map(c => ({
      name: c.service,
      color: Waterfall.colorOf(c.service),
      points: c.points.map(p => ({ x: p.step, y: Number(p.value), label: `${c.service} step ${p.step}: ${Charts.format(Number(p.value))}` })),
    })),
  })));

  const body = $('metrics-table').tBodies[0];
  body.replaceChildren(...(metrics ?? []).map(m => {
    const row = document.createElement('tr');
    row.className = `clickable${m.name === state.metric ? ' selected' : ''}`;
    row.dataset.testid = 'metric-row';
    row.dataset.metric = m.name;
    row.append(cell(m.name, 'mono'), cell(m.kind), cell(m.unit), cell(m.services.join(', ')), cell(String(m.points)));
    row.addEventListener('click', () => { state.metric = m.name; refresh(); });
    return row;
  }));
  if (state.metric) await refreshMetricChart();
}

async function refreshMetricChart() {
  const data = await getJson(`/api/metrics/${encodeURIComponent(state.metric)}?limit=2000`);
  if (!data) { $('metric-chart').replaceChildren(); return; }
  // Gauges and sums plot their value; distributions their mean (sum / count).
  const valueOf = p => p.value != null ? Number(p.value) : (p.count ? Number(p.sum) / p.count : NaN);
  const byService = new Map();
  for (const p of data.points) {
    if (!byService.has(p.service)) byService.set(p.service, []);
    byService.get(p.service).push({ x: new Date(p.time).getTime() / 1000, y: valueOf(p) });
  }
  const origin = Math.min(...data.points.map(p => new Date(p.time).getTime() / 1000));
  $('metric-chart').replaceChildren(Charts.lineChart({
    title: `${data.name}${data.unit ? ` (${data.unit})` : ''}${data.kind.includes('histogram') || data.kind === 'summary' ? ' — mean' : ''}`,
    metric: data.name,
    xLabel: 'seconds',
    series: [...byService].map(([service, points]) => ({
      name: service, color: Waterfall.colorOf(service), points: points.map(p => ({ x: p.x - origin, y: p.y })),
    })),
  }));
}

async function refreshLogs() {
  const service = $('logs-service').value;
  const minSeverity = $('logs-severity').value;
  const [logs, metrics] = await Promise.all([
    getJson(`/api/logs?limit=500&minSeverity=${minSeverity}${service ? `&service=${encodeURIComponent(service)}` : ''}`),
    getJson('/api/resources'),
  ]);
  const services = new Set((logs ?? []).map(l => l.service));
  (metrics ?? []).forEach(r => services.add(r.name));
  if (service) services.add(service);
  syncOptions($('logs-service'), [...services].sort(), true);
  const body = $('logs-table').tBodies[0];
  body.replaceChildren(...(logs ?? []).slice().reverse().map(l => {
    const row = document.createElement('tr');
    row.dataset.testid = 'log-row';
    const trace = document.createElement('a');
    if (l.traceId) {
      trace.textContent = l.traceId.slice(0, 12);
      trace.href = `#traces/${l.traceId}`;
      trace.className = 'mono';
      trace.addEventListener('click', () => { selectTab('traces'); openTrace(l.traceId); });
    }
    row.append(cell(time(l.time)), cell(Waterfall.serviceTag(l.service)), cell(l.severity), cell(l.body, 'mono'), cell(trace));
    return row;
  }));
}

async function refreshCompletions() {
  const data = await getJson('/api/completions?limit=30');
  const samples = data?.samples ?? [];
  $('completions-list').replaceChildren(...samples.map(s => {
    const item = document.createElement('article');
    item.className = 'completion';
    item.dataset.testid = 'completion';
    if (s.step != null) item.dataset.step = String(s.step);
    const header = document.createElement('div');
    header.className = 'completion-header';
    header.textContent = s.header;
    const text = document.createElement('pre');
    text.className = 'completion-text';
    text.textContent = s.text;
    item.append(header, text);
    return item;
  }));
  const empty = $('completions-empty');
  empty.hidden = samples.length > 0;
  empty.textContent = data?.configured === false ? 'No run folder is connected to this dashboard.' : 'No completion samples yet.';
}

const refreshers = {
  resources: refreshResources,
  console: refreshConsole,
  traces: refreshTraces,
  metrics: refreshMetrics,
  logs: refreshLogs,
  completions: refreshCompletions,
};

// One refresh at a time; a request for another while one runs (a tab switch) runs right after it.
async function refresh() {
  if (state.busy) { state.again = true; return; }
  state.busy = true;
  const status = $('refresh-status');
  try {
    await refreshers[state.tab]();
    status.textContent = `updated ${new Date().toLocaleTimeString()}`;
    status.classList.remove('offline');
  } catch (error) {
    status.textContent = `offline: ${error.message}`;
    status.classList.add('offline');
  } finally {
    state.busy = false;
    if (state.again) {
      state.again = false;
      refresh();
    }
  }
}

function selectTab(tab) {
  if (!refreshers[tab]) tab = 'resources';
  state.tab = tab;
  document.querySelectorAll('.tab').forEach(b => {
    b.classList.toggle('active', b.dataset.tab === tab);
    b.setAttribute('aria-selected', String(b.dataset.tab === tab));
  });
  document.querySelectorAll('.panel').forEach(p => { p.hidden = p.id !== `panel-${tab}`; });
  if (!(tab === 'traces' && state.traceId)) history.replaceState(null, '', `#${tab}`);
  refresh();
}

function start() {
  document.querySelectorAll('.tab').forEach(b => b.addEventListener('click', () => selectTab(b.dataset.tab)));
  $('console-resource').addEventListener('change', e => { state.consoleResource = e.target.value; refresh(); });
  $('logs-service').addEventListener('change', () => refresh());
  $('logs-severity').addEventListener('change', () => refresh());
  const [tab, traceId] = location.hash.slice(1).split('/');
  if (tab === 'traces' && traceId) state.traceId = traceId;
  selectTab(tab || 'resources');
  setInterval(refresh, REFRESH_MS);
}

document.addEventListener('DOMContentLoaded', start);
