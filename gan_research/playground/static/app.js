// The playground page: a form posted to /api/runs, then /api/runs/ID polled and drawn on canvases.
'use strict';

const FIELDS = ['data', 'activation', 'minibatch', 'objective', 'pack', 'unroll_steps',
                'd_steps', 'lr_g', 'lr_d', 'steps', 'seed'];
const POLL_MS = 200;
let current = null;  // {id, losses: [[step, d, g]], timer}

const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const response = await fetch(path, {
    method, headers: {'Content-Type': 'application/json'},
    body: body === undefined ? undefined : JSON.stringify(body)});
  const json = await response.json();
  if (!response.ok) throw new Error(json.error || `HTTP ${response.status}`);
  return json;
}

function showError(message) { $('error').textContent = message || ''; }

async function loadOptions() {
  const options = await api('GET', '/api/options');
  for (const [name, values] of Object.entries(options.choices)) {
    $(name).innerHTML = values.map((v) => `<option value="${v}">${v}</option>`).join('');
  }
  for (const name of FIELDS) $(name).value = String(options.defaults[name]);
}

// Values are sent as typed: the server checks them and answers with a message naming the field.
function readForm() {
  const request = {};
  for (const name of FIELDS) request[name] = $(name).value;
  return request;
}

async function startRun() {
  showError('');
  $('result').textContent = '';
  $('saved').textContent = '';
  if (current && current.timer) clearTimeout(current.timer);
  try {
    const {id} = await api('POST', '/api/runs', readForm());
    current = {id, losses: [], timer: null};
    $('run').disabled = true;
    $('stop').disabled = false;
    $('save').disabled = true;
    $('status').textContent = 'Starting (the first run of a set-up compiles it)...';
    poll();
  } catch (e) {
    showError(e.message);
  }
}

async function poll() {
  const run = current;
  let view;
  try {
    view = await api('GET', `/api/runs/${run.id}?since=${run.losses.length}`);
  } catch (e) {
    showError(e.message);
    return finish();
  }
  if (run !== current) return;
  run.losses.push(...view.losses);
  draw(view, run.losses);
  const finished = !['starting', 'running'].includes(view.status);
  $('status').textContent = `${view.status}: step ${view.step} / ${view.total}` +
      (view.seconds === null ? '' : `, ${view.seconds.toFixed(1)} s` +
       (view.compile_seconds > 0 ? ` (compile ${view.compile_seconds.toFixed(1)} s)` : ''));
  $('status').dataset.status = view.status;
  if (view.error) showError(view.error);
  if (view.result) showResult(view.result);
  if (finished) return finish(view.status !== 'error');
  run.timer = setTimeout(poll, POLL_MS);
}

function finish(saveable) {
  $('run').disabled = false;
  $('stop').disabled = true;
  $('save').disabled = !saveable;
}

function showResult(result) {
  const el = $('result');
  if (result.modes_covered !== undefined) {
    el.textContent = `Modes covered: ${result.modes_covered} of ${result.num_modes}` +
        ` (step ${result.step})`;
    el.dataset.covered = result.modes_covered;
  } else {
    const kl = result.reverse_kl === null ? 'inf' : result.reverse_kl.toFixed(3);
    el.textContent = `Modes captured: ${result.modes_captured} of ${result.num_modes}, ` +
        `high quality ${(100 * result.high_quality).toFixed(1)}%, reverse KL ${kl}` +
        ` (step ${result.step})`;
    el.dataset.covered = result.modes_captured;
  }
  el.dataset.modes = result.num_modes;
}

async function stopRun() {
  if (current) await api('POST', `/api/runs/${current.id}/stop`).catch((e) => showError(e.message));
}

async function saveRun() {
  try {
    const saved = await api('POST', `/api/runs/${current.id}/save`, {});
    $('saved').textContent = `Saved to ${saved.workdir}. Retrain it with: ${saved.command}`;
  } catch (e) {
    showError(e.message);
  }
}

// Drawing.

function axes(canvas, xr, yr, y2r) {
  const ctx = canvas.getContext('2d');
  const pad = {l: 44, r: y2r ? 40 : 10, t: 10, b: 26};
  const w = canvas.width - pad.l - pad.r, h = canvas.height - pad.t - pad.b;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = '#888'; ctx.fillStyle = '#444'; ctx.font = '11px sans-serif';
  ctx.strokeRect(pad.l, pad.t, w, h);
  const X = (x) => pad.l + (x - xr[0]) / (xr[1] - xr[0]) * w;
  const Y = (y) => pad.t + h - (y - yr[0]) / (yr[1] - yr[0]) * h;
  const Y2 = y2r ? (y) => pad.t + h - (y - y2r[0]) / (y2r[1] - y2r[0]) * h : null;
  for (let i = 0; i <= 4; i++) {
    const xv = xr[0] + (xr[1] - xr[0]) * i / 4, yv = yr[0] + (yr[1] - yr[0]) * i / 4;
    ctx.textAlign = i === 0 ? 'left' : i === 4 ? 'right' : 'center';
    ctx.fillText(fmt(xv), X(xv), pad.t + h + 16);
    ctx.textAlign = 'left';
    ctx.fillText(fmt(yv), 4, Y(yv) + 4);
    if (y2r) ctx.fillText(fmt(y2r[0] + (y2r[1] - y2r[0]) * i / 4), pad.l + w + 4, Y(yv) + 4);
  }
  return {ctx, X, Y, Y2};
}

function fmt(v) { return Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(3)).toString(); }

function line(p, xs, ys, color, dash, Y) {
  const {ctx, X} = p;
  ctx.strokeStyle = color; ctx.lineWidth = 2; ctx.setLineDash(dash || []);
  ctx.beginPath();
  let started = false;
  xs.forEach((x, i) => {
    if (ys[i] === null || !isFinite(ys[i])) return;
    const px = X(x), py = (Y || p.Y)(ys[i]);
    if (started) ctx.lineTo(px, py); else ctx.moveTo(px, py);
    started = true;
  });
  ctx.stroke(); ctx.setLineDash([]); ctx.lineWidth = 1;
}

function draw(view, losses) {
  const s = view.snapshot;
  if (s && s.x) drawDensity(s);
  if (s && s.samples) drawScatter(s);
  drawLosses(losses);
  $('modes_box').style.display = view.modes_history.length ? '' : 'none';
  if (view.modes_history.length) drawModes(view.modes_history, view.total);
}

function drawDensity(s) {
  const ymax = Math.max(...s.p_data, ...s.hist) * 1.1;
  const p = axes($('main_plot'), [s.x[0], s.x[s.x.length - 1]], [0, ymax], [0, 1]);
  p.ctx.fillStyle = 'rgba(44, 160, 44, 0.35)';
  s.hist.forEach((v, i) => {
    const x0 = p.X(s.bins[i]), x1 = p.X(s.bins[i + 1]);
    p.ctx.fillRect(x0, p.Y(v), x1 - x0, p.Y(0) - p.Y(v));
  });
  line(p, s.x, s.p_data, '#000');
  line(p, s.x, s.p_g, '#2ca02c');
  line(p, s.x, s.d_star, '#d62728', [2, 3], p.Y2);
  if (s.d) line(p, s.x, s.d, '#1f77b4', [6, 4], p.Y2);
  $('main_legend').innerHTML =
      `step ${s.step}: <span>&#9632; p_data (black)</span><span style="color:#2ca02c">` +
      `&#9632; G's samples, histogram and KDE</span><span style="color:#1f77b4">- - D(x)` +
      `${s.d ? '' : ': not shown for a packed D'}</span><span style="color:#d62728">` +
      `&middot;&middot; D* = p_data / (p_data + p_g)</span> (D and D* on the right axis)`;
}

function drawScatter(s) {
  const all = s.centers.concat(s.samples);
  const lim = Math.max(...s.centers.flat().map(Math.abs)) * 1.4 + 0.2;
  const p = axes($('main_plot'), [-lim, lim], [-lim, lim]);
  p.ctx.fillStyle = 'rgba(44, 160, 44, 0.5)';
  for (const [x, y] of s.samples) {
    if (Math.abs(x) <= lim && Math.abs(y) <= lim) p.ctx.fillRect(p.X(x) - 1, p.Y(y) - 1, 2, 2);
  }
  p.ctx.strokeStyle = '#d62728';
  for (const [x, y] of s.centers) {
    p.ctx.beginPath(); p.ctx.arc(p.X(x), p.Y(y), 4, 0, 2 * Math.PI); p.ctx.stroke();
  }
  $('main_legend').innerHTML = `step ${s.step}: <span style="color:#2ca02c">&#9632; G's ` +
      `samples</span><span style="color:#d62728">&#9675; modes</span> (${all.length - s.centers.length} shown)`;
}

function drawLosses(losses) {
  if (!losses.length) return;
  const values = losses.flatMap((r) => [r[1], r[2]]).filter(isFinite);
  let lo = Math.min(...values), hi = Math.max(...values);
  if (hi - lo < 1e-6) { lo -= 1; hi += 1; }
  const steps = losses.map((r) => r[0]);
  const p = axes($('loss_plot'), [0, Math.max(...steps)], [lo, hi]);
  line(p, steps, losses.map((r) => r[1]), '#1f77b4');
  line(p, steps, losses.map((r) => r[2]), '#ff7f0e');
}

function drawModes(history, total) {
  const maxModes = Math.max(...history.map((r) => r[1]), 1);
  const p = axes($('modes_plot'), [0, total], [0, Math.max(maxModes, 8)], [0, 1]);
  const steps = history.map((r) => r[0]);
  line(p, steps, history.map((r) => r[1]), '#2ca02c');
  line(p, steps, history.map((r) => r[2]), '#9467bd', [], p.Y2);
}

$('run').addEventListener('click', startRun);
$('stop').addEventListener('click', stopRun);
$('save').addEventListener('click', saveRun);
loadOptions().catch((e) => showError(e.message));
