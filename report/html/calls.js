/*
 * calls.js - the HTML report's callers and callees (heapsnapCalls; written
 * before page.js in the page's one script by html_page, and called by it in
 * the page's order of sections), as heaptrack's GUI has them: a table of
 * functions with their inclusive bytes (every stack through the function,
 * once however often it recurses) and self bytes (stacks whose allocation
 * site it is), and for the function picked (a row's button, or a click on
 * the flame graph) its callers and its callees with the bytes that went
 * through each.  It reads the stacks as the flame graph does (page.js's
 * eachStack: Python frames only, start-up and imports folded, split by line
 * as the page's view says) and the peak's bytes or the live ones; it is
 * redrawn when the view changes.
 */
'use strict';
/* heapsnapCalls(page): page holds the page's data, view and onView,
 * eachStack, the value shown (vi(): a data.values index) and the page's DOM
 * helpers (el, size, section, navlink).  Returns pick(frame): shows that
 * function (a frame index as eachStack gives them). */
function heapsnapCalls(page) {
  const data = page.data, el = page.el, size = page.size;
  const ROWS = 50;
  page.navlink('calls', 'Callers and callees');
  const sec = page.section('calls', 'Callers and callees');
  const hint = el('p', 'hint', 'Inclusive: the bytes of every stack through the function (once, ' +
    'however often it recurses); self: the bytes it allocated itself (its stacks\u2019 last frame). ' +
    'Pick a function (or click one in the flame graph) to see who called it and what it called.');
  const funcs = el('div', 'cc-funcs'), picked = el('div', 'cc-picked');
  sec.append(hint, funcs, picked);
  let cur = -1, sums = null;
  function name(f) { return f < 0 ? '[root]' : data.frames[f][0]; }
  function where(f) { const x = data.frames[f]; return x[1] ? x[1] + (x[2] ? ':' + x[2] : '') : '[' + x[3] + ']'; }
  /* The view's stacks, flat (frames of stack i: fr[off[i] .. off[i+1])),
   * made once a view: a pick or the first draw's second pass reads them. */
  let flat = null, flatKey = '';
  function stacks() {
    const v = page.view, key = [v.py, v.fold, v.lines].join();
    if (key !== flatKey) {
      const fr = [], off = [0], vals = [];
      page.eachStack(v, function (st, w) { for (const f of st) fr.push(f); off.push(fr.length); vals.push(w); });
      flat = { fr: Int32Array.from(fr), off: Int32Array.from(off), vals: vals };
      flatKey = key;
    }
    return flat;
  }
  /* One pass over the view's stacks: each function's inclusive and self
   * bytes, and the callers and callees of cur. */
  function gather() {
    const vi = page.vi(), nf = data.frames.length, callers = new Map(), callees = new Map();
    const incl = new Float64Array(nf), self = new Float64Array(nf); /* by frame */
    const seen = new Int32Array(nf), up = new Int32Array(nf + 1), down = new Int32Array(nf);
    let total = 0, stamp = 0;
    const S = stacks(), fr = S.fr;
    for (let s = 0; s < S.vals.length; s++) {
      const w = S.vals[s][vi], lo = S.off[s], hi = S.off[s + 1];
      if (!w) continue;
      total += w;
      stamp++; /* seen[f] === stamp: f counted for this stack already */
      for (let i = lo; i < hi; i++) {
        const f = fr[i];
        if (seen[f] !== stamp) { seen[f] = stamp; incl[f] += w; }
        if (f !== cur) continue;
        const c = i > lo ? fr[i - 1] : -1, k = i + 1 < hi ? fr[i + 1] : -1;
        if (c !== cur && up[c + 1] !== stamp) { up[c + 1] = stamp; callers.set(c, (callers.get(c) || 0) + w); }
        if (k >= 0 && k !== cur && down[k] !== stamp) { down[k] = stamp; callees.set(k, (callees.get(k) || 0) + w); }
      }
      if (hi > lo) self[fr[hi - 1]] += w;
    }
    return { incl: incl, self: self, callers: callers, callees: callees, total: total };
  }
  function pct(n) { return sums.total ? (100 * n / sums.total).toFixed(1) + '%' : ''; }
  function grid(cls, heads, rows) {
    const t = el('table', 'grid ' + cls), hr = el('tr');
    heads.forEach(function (h, i) { hr.append(el('th', i > 1 ? 'num' : '', h)); });
    t.append(el('thead', '', hr));
    const body = el('tbody');
    for (const r of rows) {
      const tr = el('tr');
      r.forEach(function (c, i) { tr.append(typeof c === 'string' ? el('td', i > 1 ? 'num' : '', c) : el('td', '', c)); });
      body.append(tr);
    }
    t.append(body);
    return t;
  }
  function pickButton(f) {
    const b = el('button', 'cc-pick', name(f));
    b.dataset.func = name(f);
    b.addEventListener('click', function () { pick(f); });
    return b;
  }
  function drawPicked() {
    picked.textContent = '';
    if (cur < 0 || !sums.incl[cur]) return;
    picked.dataset.func = name(cur);
    picked.append(el('h3', '', name(cur) + ' \u2014 ' + where(cur)),
      el('p', 'sub', 'inclusive ' + size(sums.incl[cur]) + ' (' + pct(sums.incl[cur]) + '), self ' +
        size(sums.self[cur])));
    function list(m) {
      return Array.from(m.entries()).sort(function (a, b) { return b[1] - a[1]; }).slice(0, ROWS).map(function (e) {
        return [e[0] < 0 ? el('span', '', '[root]') : pickButton(e[0]), e[0] < 0 ? '' : where(e[0]), size(e[1]), pct(e[1])];
      });
    }
    picked.append(el('h3', '', 'Callers'), grid('cc-callers', ['caller', 'where', 'bytes', 'share'], list(sums.callers)),
      el('h3', '', 'Callees'), grid('cc-callees', ['callee', 'where', 'bytes', 'share'], list(sums.callees)));
    if (!sums.callees.size) picked.lastChild.replaceWith(el('p', 'sub cc-none', 'none: it is an allocation site on every stack'));
  }
  function draw() {
    sums = gather();
    if (cur < 0 || !sums.incl[cur]) { /* the function that allocated the most itself */
      cur = -1;
      sums.self.forEach(function (n, f) { if (n > 0 && (cur < 0 || n > sums.self[cur])) cur = f; });
      if (cur >= 0) sums = gather();
    }
    funcs.textContent = '';
    const fs = [];
    sums.incl.forEach(function (n, f) { if (n > 0) fs.push(f); });
    const rows = fs.sort(function (a, b) { return sums.incl[b] - sums.incl[a]; })
      .slice(0, ROWS).map(function (f) {
        return [pickButton(f), where(f), size(sums.incl[f]), size(sums.self[f])];
      });
    funcs.append(grid('cc-table', ['function', 'where', 'inclusive', 'self'], rows));
    drawPicked();
  }
  function pick(f) {
    cur = f;
    sums = gather();
    drawPicked();
  }
  page.onView.push(draw);
  return pick;
}
