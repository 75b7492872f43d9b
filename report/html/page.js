/*
 * page.js - draws the heapsnap HTML report (html_page) from the JSON in
 * <script id="heapsnap-data">: a flame graph (an icicle: callers above
 * callees) with zoom, search and hover details, the heap over time
 * (heapsnapTimeline), the top and diff tables and the leak
 * check (heapsnapLeaks).  It opens on the peak when the snapshots
 * captured one ("At exit" one click away, or file.html#exit), and for a
 * Python process with "Python frames only" on: a stack is then its Python
 * frames, the native ones folded into the Python frame that called them, and
 * the tables go by Python line; the stacks open with start-up and imports
 * folded (heapsnapFold).  The flame graph has one box per function
 * (its lines merged; "Split by line" splits them), and an inverted layout
 * (allocation sites first, their callers below: heaptrack's bottom-up view).
 * The address's #fragment picks a view, tokens joined by commas: peak or exit
 * (live), lines, inverted, all-frames.  Then callers and callees (calls.js)
 * and the allocation sizes (sizes.js).  Plain DOM and SVG, no library: every
 * name from the profiled program goes into the page as text (textContent, or
 * a text node), never as markup.  Why the flame graph is not d3-flame-graph
 * (5.0.0, Apache-2.0, 12.8 KB minified): it needs eight d3 modules at run
 * time (selection, format, array, hierarchy, scale, ease, transition,
 * dispatch) bundled beside it, and a nested {name, value, children} tree;
 * the page's views (peak or exit, Python frames only, folded start-up,
 * inverted, split by line) rebuild the tree from the shared-prefix stacks
 * in typed arrays, and the widest-first bar budget keeps a page of 100,000
 * stacks quick: that code stays whoever draws the boxes, and what is left,
 * the boxes, is render() and bar(), about 65 lines.  Errors are counted on <html data-errors>,
 * and <body data-ready> is set once everything is drawn, for the tests that
 * load the page in a browser (data-drawn-ms: milliseconds since navigation).
 */
'use strict';
(function () {
  let nerrors = 0;
  window.addEventListener('error', function () {
    document.documentElement.dataset.errors = String(++nerrors);
  });
  const data = JSON.parse(document.getElementById('heapsnap-data').textContent);
  const SVG = 'http://www.w3.org/2000/svg';

  /* --- helpers ------------------------------------------------------------- */

  function el(tag, cls, ...kids) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    for (const k of kids) e.append(typeof k === 'string' ? document.createTextNode(k) : k);
    return e;
  }
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  /* tracemalloc's _format_size: "10.0 KiB", "1024 KiB", "17 B" */
  function size(n, sign) {
    let v = Math.abs(n), units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], u = 0;
    const pre = sign ? (n < 0 ? '-' : '+') : (n < 0 ? '-' : '');
    while (u < units.length - 1 && v >= 10 * 1024) { v /= 1024; u++; }
    if (u === 0) return pre + v + ' B';
    return pre + (v < 100 ? v.toFixed(1) : Math.round(v)) + ' ' + units[u];
  }
  function count(n) { return n.toLocaleString('en-US'); }
  function value(n, vi) { return data.values[vi].unit === 'bytes' ? size(n) : count(n); }
  function where(f) { return f[1] ? f[1] + ':' + f[2] : '[' + f[3] + ']'; }
  function section(id, title) {
    const s = el('section', 'card');
    s.id = id;
    s.append(el('h2', '', title));
    document.body.append(s);
    return s;
  }
  /* A table; a row that is { fold: [cells], rows: [rows] } is one row
   * (its cells) that a click opens to show its rows below it. */
  function table(heads, rows, numeric) {
    const t = el('table', 'grid'), hr = el('tr');
    heads.forEach(function (h, i) { hr.append(el('th', numeric[i] ? 'num' : '', h)); });
    t.append(el('thead', '', hr));
    const body = el('tbody');
    function row(r, cls) {
      const tr = el('tr', cls);
      r.forEach(function (c, i) { tr.append(el('td', numeric[i] ? 'num' : '', String(c))); });
      body.append(tr);
      return tr;
    }
    for (const r of rows) {
      if (!r.fold) { row(r, ''); continue; }
      const head = row(r.fold, 'fold-row'), members = r.rows.map(function (m) { return row(m, 'fold-member'); });
      head.title = 'click to show or hide its ' + r.rows.length + ' rows';
      members.forEach(function (m) { m.hidden = true; });
      head.addEventListener('click', function () {
        const open = head.classList.toggle('open');
        members.forEach(function (m) { m.hidden = !open; });
      });
    }
    t.append(body);
    return t;
  }
  /* Text indented by two spaces a level (retainers_print's, pyholders'),
   * as a tree: a line with lines below it opens them (<details>). */
  function tree(text, cls) {
    const root = el('div', 'rtree ' + cls), lines = text.split('\n').filter(function (l) { return l.trim(); });
    const open = [{ depth: -1, box: root }];
    const depth = function (l) { return l.length - l.trimStart().length; };
    lines.forEach(function (l, i) {
      while (open[open.length - 1].depth >= depth(l)) open.pop();
      const box = open[open.length - 1].box;
      if (i + 1 < lines.length && depth(lines[i + 1]) > depth(l)) {
        const d = el('details', 'rnode', el('summary', '', l.trim()));
        box.append(d);
        open.push({ depth: depth(l), box: d });
      } else box.append(el('div', 'rleaf', l.trim()));
    });
    if (root.children.length === 1 && root.firstChild.tagName === 'DETAILS') root.firstChild.open = true;
    return root;
  }

  /* --- header ---------------------------------------------------------------- */

  const I_ALLOC_N = 0, I_ALLOC_B = 1, I_LIVE_N = 2, I_LIVE_B = 3, I_PEAK_N = 4, I_PEAK_B = 5;
  const NV = data.values.length;

  /* The tree, in typed arrays: node 0 is the root ("all"); node k's parent
   * is parent[k] < k, its frame frame[k], its totals val[NVk .. NVk+NV-1].  The
   * stacks come sorted, each sharing a prefix with the one before
   * (html_page), so the nodes of that prefix are the previous stack's;
   * a node below is looked up among its parent's children by frame, or by
   * function (fkey: a frame's first frame of the same function, file and
   * module) unless split by line.  With Python frames only, a stack with
   * Python frames keeps those alone; inverted, a stack is read from its
   * allocation site up. */
  const isPy = function (fi) { return data.frames[fi][3] === '<python>'; };
  const fold = heapsnapFold(data.frames, isPy); /* fold.js */
  const fkey = new Int32Array(data.frames.length), fmany = new Uint8Array(data.frames.length);
  (function () {
    const seen = new Map();
    data.frames.forEach(function (f, i) {
      const key = f[0] + '\u0000' + f[1] + '\u0000' + f[3];
      const k = seen.get(key);
      if (k === undefined) { seen.set(key, i); fkey[i] = i; } else { fkey[i] = k; fmany[k] = 1; }
    });
  })();
  const hashView = location.hash.slice(1).split(',');
  let cap, nn, parent, frame, val, first, kid, sortedKids;
  function node(p, f) {
    if (nn === cap) {
      cap *= 2;
      const a = new Int32Array(cap), b = new Int32Array(cap), w = new Float64Array(cap * NV);
      a.set(parent); b.set(frame); w.set(val);
      parent = a; frame = b; val = w;
    }
    parent[nn] = p;
    frame[nn] = f;
    return nn++;
  }
  function build(how) {
    cap = 1024; nn = 1;
    parent = new Int32Array(cap); frame = new Int32Array(cap); val = new Float64Array(cap * NV);
    parent[0] = -1;
    frame[0] = -1;
    const path = [0], full = [], byKey = new Map(), nf = data.frames.length;
    const id = how.lines ? function (f) { return f; } : function (f) { return fkey[f]; };
    function child(p, f) {
      const key = p * nf + f;
      let k = byKey.get(key);
      if (k === undefined) byKey.set(key, k = node(p, f));
      return k;
    }
    for (const s of data.stacks) {
      let leaf;
      if (!how.py && !how.inverted && !how.fold) {
        path.length = s[0] + 1;
        for (const f of s[1]) path.push(child(path[path.length - 1], id(f)));
        leaf = path[path.length - 1];
      } else {
        full.length = s[0];
        for (const f of s[1]) full.push(f);
        const kept = how.fold ? fold(full, how.py) : how.py && full.some(isPy) ? full.filter(isPy) : full.slice();
        if (how.inverted) kept.reverse();
        leaf = 0;
        for (const f of kept) leaf = child(leaf, id(f));
      }
      for (let i = 0; i < NV; i++) val[leaf * NV + i] += s[2][i];
    }
    for (let k = nn - 1; k > 0; k--) for (let i = 0; i < NV; i++) val[parent[k] * NV + i] += val[k * NV + i];
    first = new Int32Array(nn + 1); /* children of k: kid[first[k] .. first[k+1]) */
    for (let k = 1; k < nn; k++) first[parent[k] + 1]++;
    for (let k = 0; k < nn; k++) first[k + 1] += first[k];
    kid = new Int32Array(Math.max(nn - 1, 1));
    const fill = first.slice(0, nn);
    for (let k = 1; k < nn; k++) kid[fill[parent[k]]++] = k;
    sortedKids = data.values.map(function () { return new Map(); });
  }
  /* Each stack of the view as build reads it, outermost first, its frames
   * as the tree's nodes hold them (a function's first frame unless split by
   * line), never inverted: cb(frames, values), for heapsnapCalls. */
  function eachStack(how, cb) {
    const full = [], out = [], id = how.lines ? function (f) { return f; } : function (f) { return fkey[f]; };
    for (const s of data.stacks) {
      full.length = s[0];
      for (const f of s[1]) full.push(f);
      const kept = how.fold ? fold(full, how.py) : how.py && full.some(isPy) ? full.filter(isPy) : full;
      out.length = kept.length;
      for (let i = 0; i < kept.length; i++) out[i] = id(kept[i]);
      cb(out, s[2]); /* out is reused: cb keeps no reference to it */
    }
  }
  /* The page's view: at the peak or at exit, Python frames only or all,
   * start-up and imports folded or not (fold);
   * the flame graph's boxes split by line or not, inverted or not. */
  const view = { peak: false, py: !!data.python, lines: hashView.includes('lines'),
    inverted: hashView.includes('inverted'), fold: !!data.python && !hashView.includes('all-frames') && !data.all_frames };
  build(view);
  function kids(n, vi) {
    let v = sortedKids[vi].get(n);
    if (!v) {
      v = Array.from(kid.subarray(first[n], first[n + 1])).filter(function (k) { return val[k * NV + vi] > 0; })
        .sort(function (a, b) { return val[b * NV + vi] - val[a * NV + vi]; });
      sortedKids[vi].set(n, v);
    }
    return v;
  }
  function label(n) { return n === 0 ? 'all' : data.frames[frame[n]][0]; }
  function v(n, vi) { return val[n * NV + vi]; }
  /* The snapshots recorded what each site held at the traced peak (PEAK). */
  const hasPeak = NV > I_PEAK_B && v(0, I_PEAK_B) > 0;

  const h1 = el('h1', '', 'heapsnap: ' + data.exe.slice(data.exe.lastIndexOf('/') + 1));
  h1.title = data.exe;
  const head = el('header', '', h1);
  head.append(el('p', 'sub', data.snapshots.length + ' snapshot' +
    (data.snapshots.length === 1 ? '' : 's') + ' of ' + data.processes + ' process' +
    (data.processes === 1 ? '' : 'es') + ' \u2014 live ' + size(v(0, I_LIVE_B)) + ' in ' +
    count(v(0, I_LIVE_N)) + ' blocks, ' + size(v(0, I_ALLOC_B)) + ' allocated in ' +
    count(v(0, I_ALLOC_N)) + ' blocks'));
  /* At the peak (the default when the snapshots captured it) or at exit,
   * and for a Python process "Python frames only": the whole page follows. */
  const views = el('div', 'controls views');
  const atPeak = el('button', 'view-peak', 'At the peak'), atExit = el('button', 'view-exit', 'At exit');
  const pyBox = el('input');
  pyBox.type = 'checkbox';
  pyBox.className = 'python-only';
  if (hasPeak) views.append(el('span', '', 'Show memory'), atPeak, atExit);
  if (data.python) views.append(el('label', '', pyBox, ' Python frames only'));
  const onView = [];
  const foldBox = el('input');
  foldBox.type = 'checkbox';
  foldBox.className = 'fold-startup';
  if (data.python) views.append(el('label', '', foldBox, ' Fold start-up and imports'));
  function setView(peak, py, lines, inverted, folded) {
    if (lines === undefined) lines = view.lines;
    if (inverted === undefined) inverted = view.inverted;
    if (folded === undefined) folded = view.fold;
    const rebuild = py !== view.py || lines !== view.lines || inverted !== view.inverted || folded !== view.fold;
    view.fold = folded;
    foldBox.checked = folded;
    const moved = view.peak !== (peak && hasPeak);
    view.peak = peak && hasPeak;
    view.py = py;
    view.lines = lines;
    view.inverted = inverted;
    atPeak.classList.toggle('on', view.peak);
    atExit.classList.toggle('on', !view.peak);
    pyBox.checked = view.py;
    document.body.dataset.view = (view.peak ? 'peak' : 'exit') + (view.py ? ' python' : '') +
      (view.lines ? ' lines' : '') + (view.inverted ? ' inverted' : '');
    document.body.dataset.frames = folded ? 'folded' : 'all';
    if (rebuild) build(view);
    for (const f of onView) f(rebuild, moved);
  }
  atPeak.addEventListener('click', function () { setView(true, view.py); });
  atExit.addEventListener('click', function () { setView(false, view.py); });
  pyBox.addEventListener('change', function () { setView(view.peak, pyBox.checked); });
  foldBox.addEventListener('change', function () { setView(view.peak, view.py, view.lines, view.inverted, foldBox.checked); });
  for (const s of data.snapshots)
    if (s.attached) head.append(el('p', 'sub', s.path + ': ' + s.attached));
  const nav = el('nav');
  head.append(views, nav);
  document.body.append(head);
  function navlink(id, text) {
    const a = el('a', '', text);
    a.href = '#' + id;
    nav.append(a);
  }

  /* --- flame graph -------------------------------------------------------------- */

  navlink('flame', 'Flame graph');
  const fsec = section('flame', 'Flame graph');
  const fctl = el('div', 'controls');
  const vsel = el('select');
  [I_LIVE_B, I_LIVE_N, I_ALLOC_B, I_ALLOC_N].concat(hasPeak ? [I_PEAK_B, I_PEAK_N] : []).forEach(function (vi) {
    const o = el('option', '', data.values[vi].title);
    o.value = String(vi);
    vsel.append(o);
  });
  const search = el('input');
  search.type = 'search';
  search.placeholder = 'search functions and files';
  const reset = el('button', '', 'Reset zoom');
  const fnote = el('span', 'note');
  const layout = el('select', 'layout');
  [['top-down', 'callers first'], ['inverted', 'allocation sites first (inverted)']].forEach(function (o) {
    const e = el('option', '', o[1]);
    e.value = o[0];
    layout.append(e);
  });
  const linesBox = el('input');
  linesBox.type = 'checkbox';
  linesBox.className = 'split-lines';
  fctl.append(el('label', '', 'Show ', vsel), el('label', '', 'Layout ', layout),
    el('label', '', linesBox, ' Split by line'), search, reset, fnote);
  layout.addEventListener('change', function () { setView(view.peak, view.py, view.lines, layout.value === 'inverted'); });
  linesBox.addEventListener('change', function () { setView(view.peak, view.py, linesBox.checked, view.inverted); });
  const fbox = el('div', 'fg');
  const tip = el('div', 'tip');
  tip.hidden = true;
  const fhint = el('p', 'hint');
  fsec.append(fctl, fhint, fbox);
  document.body.append(tip);
  const ROW = 18, MAXBARS = 4000, MINW = 2;
  /* the page's view picks the peak's bytes or the live ones */
  const st = { vi: I_LIVE_B, zoom: 0, q: '' };
  vsel.value = String(st.vi);
  let drawn = [], onPick = function () {};

  function matches(n) {
    if (!st.q || n === 0) return false;
    const f = data.frames[frame[n]];
    return f[0].toLowerCase().includes(st.q) || f[1].toLowerCase().includes(st.q);
  }
  function hue(name) {
    let h = 0;
    for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
    return h;
  }
  function bar(n, x, w, depth, up) {
    const d = el('div', 'fg-frame' + (up ? ' fg-parent' : ''));
    d.style.left = x + 'px';
    d.style.width = Math.max(w - 1, 1) + 'px';
    d.style.top = depth * ROW + 'px';
    const h = hue(label(n));
    d.style.background = matches(n) ? '#c04ee0' : 'hsl(' + (10 + h % 45) + ',' + (70 + h % 20) + '%,' + (st.q ? 85 : 62 + h % 12) + '%)';
    d.dataset.i = String(drawn.length);
    d.dataset.func = label(n);
    if (w > 28) d.textContent = label(n);
    drawn.push(n);
    return d;
  }
  /* The children of n narrower than MINW pixels, as one box ("N small",
   * d3-flame-graph's minFrameSize, merged rather than hidden so that the
   * columns still add up): drawn[i] is n, so a click zooms into n, where
   * they are wider; its tip says how many and what they hold. */
  function smallBar(n, many, sum, x, w, depth) {
    const d = el('div', 'fg-frame fg-small');
    d.style.left = x + 'px';
    d.style.width = Math.max(w - 1, 1) + 'px';
    d.style.top = depth * ROW + 'px';
    d.dataset.i = String(drawn.length);
    d.dataset.small = String(many);
    d.dataset.v = String(sum);
    d.dataset.func = many + ' small';
    if (w > 28) d.textContent = many + ' small';
    drawn.push(n);
    return d;
  }
  /* A binary max-heap of bars by width: push(w, item), pop() the widest. */
  function BarHeap() {
    const w = [], item = [];
    this.size = function () { return w.length; };
    this.topWidth = function () { return w[0]; };
    this.push = function (wi, it) {
      let i = w.length;
      w.push(wi); item.push(it);
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (w[p] >= w[i]) break;
        [w[p], w[i]] = [w[i], w[p]]; [item[p], item[i]] = [item[i], item[p]];
        i = p;
      }
    };
    this.pop = function () {
      const top = item[0], lw = w.pop(), li = item.pop();
      if (w.length) {
        w[0] = lw; item[0] = li;
        for (let i = 0; ;) {
          const l = 2 * i + 1, r = l + 1;
          let m = i;
          if (l < w.length && w[l] > w[m]) m = l;
          if (r < w.length && w[r] > w[m]) m = r;
          if (m === i) break;
          [w[m], w[i]] = [w[i], w[m]]; [item[m], item[i]] = [item[i], item[m]];
          i = m;
        }
      }
      return top;
    };
  }
  function render() {
    const W = Math.max(fbox.clientWidth, 300), vi = st.vi, total = v(st.zoom, vi);
    const frag = document.createDocumentFragment();
    drawn = [];
    const chain = [];
    for (let a = st.zoom; a >= 0; a = parent[a]) chain.unshift(a);
    chain.forEach(function (a, i) { frag.append(bar(a, 0, W, i, a !== st.zoom)); });
    /* The budget goes to the widest bars: a bar is never wider than its
     * caller, so taking them widest first from a heap draws the MAXBARS
     * widest of the tree, whole columns, and cuts only the narrowest. */
    let depth = chain.length, bars = 0, cut = false;
    const todo = new BarHeap();
    function add(n, x0, d) {
      let x = x0, many = 0, sum = 0;
      for (const k of kids(n, vi)) { /* widest first */
        const w = total ? v(k, vi) / total * W : 0;
        if (w < MINW || many) { many++; sum += v(k, vi); continue; }
        todo.push(w, [k, x, d + 1]);
        x += w;
      }
      const w = total ? sum / total * W : 0;
      if (many && w >= 1) todo.push(w, [n, x, d + 1, many, sum]);
    }
    add(st.zoom, 0, chain.length - 1);
    while (todo.size()) {
      if (bars === MAXBARS) { cut = true; break; }
      const w = todo.topWidth(), [k, x, d, many, sum] = todo.pop();
      frag.append(many ? smallBar(k, many, sum, x, w, d) : bar(k, x, w, d, false));
      bars++;
      depth = Math.max(depth, d + 1);
      if (!many) add(k, x, d);
    }
    fbox.textContent = '';
    fbox.dataset.value = data.values[vi].name;
    layout.value = view.inverted ? 'inverted' : 'top-down';
    linesBox.checked = view.lines;
    fhint.textContent = 'Each bar is ' + (view.lines ? 'a function at one line' : 'a function (its lines merged)') +
      ', as wide as the memory allocated through it; ' + (view.inverted ?
      'inverted: the allocation sites are at the top, and below each the callers that reached it. ' :
      'callers are above callees, allocation sites at the bottom of each column. ') +
      'Click to zoom, hover for details.';
    fbox.style.height = depth * ROW + 'px';
    fbox.append(frag);
    let found = 0;
    if (st.q) {
      const todo2 = [0];
      while (todo2.length) for (const k of kids(todo2.pop(), vi)) { if (matches(k)) found += v(k, vi); else todo2.push(k); }
    }
    fnote.textContent = (st.q ? 'matched: ' + value(found, vi) + ' (' +
      (v(0, vi) ? (100 * found / v(0, vi)).toFixed(1) : '0') + '%)' : '') +
      (cut ? (st.q ? '; ' : '') + 'the narrowest frames are not drawn (over ' + count(MAXBARS) +
        ' bars): zoom in to see them' : '');
    if (cut) fbox.dataset.cut = '1'; else delete fbox.dataset.cut;
    fbox.dataset.layout = (view.inverted ? 'inverted' : 'top-down') + (view.lines ? ' lines' : '');
  }
  function details(n) {
    const f = n === 0 ? null : data.frames[frame[n]];
    const pct = v(0, st.vi) ? (100 * v(n, st.vi) / v(0, st.vi)).toFixed(2) : '0';
    tip.textContent = '';
    tip.append(el('b', '', label(n)));
    if (f) tip.append(el('div', '', (!view.lines && fmany[frame[n]] ? (f[1] || '[' + f[3] + ']') +
      ' (several lines: Split by line shows them)' : where(f)) + '  (' + f[3] + ')'));
    tip.append(el('div', '', 'live: ' + size(v(n, I_LIVE_B)) + ' in ' + count(v(n, I_LIVE_N)) + ' blocks'),
      el('div', '', 'allocated: ' + size(v(n, I_ALLOC_B)) + ' in ' + count(v(n, I_ALLOC_N)) + ' blocks'));
    if (hasPeak)
      tip.append(el('div', '', 'at the peak: ' + size(v(n, I_PEAK_B)) + ' in ' + count(v(n, I_PEAK_N)) + ' blocks'));
    tip.append(el('div', '', pct + '% of ' + data.values[st.vi].title));
  }
  function smallDetails(n, many, sum) {
    const pct = v(0, st.vi) ? (100 * sum / v(0, st.vi)).toFixed(2) : '0';
    tip.textContent = '';
    tip.append(el('b', '', many + ' small frames'),
      el('div', '', 'called from ' + label(n) + ', each narrower than ' + MINW + ' pixels: click to zoom in'),
      el('div', '', value(sum, st.vi) + ' together, ' + pct + '% of ' + data.values[st.vi].title));
  }
  fbox.addEventListener('mousemove', function (e) {
    const t = e.target.closest('.fg-frame');
    if (!t) { tip.hidden = true; return; }
    if (t.dataset.small) smallDetails(drawn[+t.dataset.i], +t.dataset.small, +t.dataset.v);
    else details(drawn[+t.dataset.i]);
    tip.hidden = false;
    tip.style.left = Math.min(e.pageX + 14, document.documentElement.scrollWidth - 320) + 'px';
    tip.style.top = e.pageY + 14 + 'px';
  });
  fbox.addEventListener('mouseleave', function () { tip.hidden = true; });
  fbox.addEventListener('click', function (e) {
    const t = e.target.closest('.fg-frame');
    if (t) { st.zoom = drawn[+t.dataset.i]; render(); onPick(frame[st.zoom]); }
  });
  function show(vi) {
    st.vi = vi;
    vsel.value = String(vi);
    if (!v(st.zoom, st.vi)) st.zoom = 0;
    render();
  }
  onView.push(function (rebuilt, moved) {
    if (rebuilt) st.zoom = 0;
    show(moved ? (view.peak ? I_PEAK_B : I_LIVE_B) : st.vi);
  });
  vsel.addEventListener('change', function () { show(+vsel.value); });
  search.addEventListener('input', function () { st.q = search.value.trim().toLowerCase(); render(); });
  reset.addEventListener('click', function () { st.zoom = 0; render(); });
  window.addEventListener('resize', render); /* drawn first by setView, below */

  /* --- timeline ---------------------------------------------------------------- */

  const markPeak = heapsnapTimeline({ data: data, view: view, setView: setView, hashView: hashView, flame: fsec,
    el: el, svg: svg, size: size, count: count, section: section, navlink: navlink }); /* timeline.js */

  /* --- top and diff --------------------------------------------------------------- */

  function site(r) { return r.site; }
  function avg(r) { return r.count ? size(Math.round(r.size / r.count)) : ''; }
  /* A table section whose rows(), title() follow the page's view. */
  function filtered(id, title, heads, rows, numeric) {
    navlink(id, title());
    const s = section(id, title());
    const q = el('input');
    q.type = 'search';
    q.placeholder = 'filter';
    const H = typeof heads === 'function' ? heads : function () { return heads; };
    let t = table(H(), [], numeric); /* filled by setView, below */
    function apply() {
      const w = q.value.trim().toLowerCase();
      let open = true; /* a filter shows the folded rows it matches; without one, an open fold's */
      for (const tr of t.tBodies[0].rows) {
        const member = tr.classList.contains('fold-member');
        if (tr.classList.contains('fold-row')) open = tr.classList.contains('open');
        tr.hidden = w ? !tr.textContent.toLowerCase().includes(w) : member && !open;
      }
    }
    q.addEventListener('input', apply);
    s.append(el('div', 'controls', q), t);
    onView.push(function () {
      s.firstChild.textContent = title();
      const n = table(H(), rows(), numeric);
      t.replaceWith(n);
      t = n;
      apply();
    });
    return s;
  }
  /* The rows of the view: by Python line (start-up and imports folded or not) or by native line, at exit or at the peak. */
  function topKey() { return view.py && view.fold && data.top_folded ? '_folded' : view.py || !data.python ? '' : '_native'; }
  function topRows() { return data[(view.peak && data.top_peak ? 'top_peak' : 'top') + topKey()]; }
  /* retained: what a site's blocks would free if they went (a Python
   * snapshot's PYRETAIN, of its live objects: at the peak, the same site's
   * at exit, as the column's head says). */
  const ret = (data.top || []).some(function (r) { return r.retained !== undefined; });
  function retainedOf() {
    const exit = new Map();
    for (const r of (view.peak && data['top' + topKey()]) || []) exit.set(r.site, r.retained);
    return function (r) { const n = r.retained !== undefined ? r.retained : exit.get(r.site); return n === undefined ? '' : size(n); };
  }
  /* Start-up and imports, by Python line, as the flame graph folds them:
   * a stack (Python frames, folded) is start-up when it begins with
   * "[interpreter start-up]", and an import when it runs the <module> code
   * of a file other than the program's own (the file whose <module> is the
   * outermost frame of the most bytes of the other stacks).  A line whose
   * every stack is one of these is a start-up or import row, which the top
   * table folds into one row while the view folds. */
  const startupSites = (function () {
    const out = new Set();
    if (!data.python) return out;
    const how = { py: true, fold: true, lines: true }, by = new Map(), all = new Map(), seen = [];
    let mainFile = '', most = -1;
    /* one pass: each stack's line, whether it is start-up, the files whose <module> it runs */
    eachStack(how, function (st, vals) {
      const f = st.length ? data.frames[st[0]] : null, start = !!f && f[3] === 'folded';
      if (!start && f && f[0] === '<module>' && f[1]) by.set(f[1], (by.get(f[1]) || 0) + vals[I_ALLOC_B]);
      let k = st.length - 1;
      while (k >= 0 && !isPy(st[k])) k--;
      if (k < 0) return;
      const mods = [];
      for (const x of st) if (data.frames[x][0] === '<module>' && !mods.includes(data.frames[x][1])) mods.push(data.frames[x][1]);
      seen.push([data.frames[st[k]][1] + ':' + data.frames[st[k]][2], start, mods]);
    });
    for (const [f, n] of by) if (n > most) { most = n; mainFile = f; }
    for (const [key, start, mods] of seen) {
      const imp = start || mods.some(function (m) { return m !== mainFile; });
      all.set(key, (all.has(key) ? all.get(key) : true) && imp);
    }
    for (const [k, imp] of all) if (imp) out.add(k);
    return out;
  })();
  function startupRow(r) {
    return /^\[(interpreter start-up|import machinery)\]/.test(r.site) || startupSites.has(r.site);
  }
  filtered('top', function () { return 'Top allocation sites (' + (view.peak && data.top_peak ? 'at the peak' : 'live') + ')'; },
    function () {
      return ['#', 'site', 'function', 'size'].concat(ret ? [view.peak ? 'retained (at exit)' : 'retained'] : [], ['count', 'average']);
    },
    function () {
      const rows = topRows(), rv = retainedOf(), out = [], folded = [];
      const fold = view.py && view.fold;
      rows.forEach(function (r, i) {
        const cells = [i + 1, site(r), r.func, size(r.size)].concat(ret ? [rv(r)] : [], [count(r.count), avg(r)]);
        if (fold && startupRow(r)) folded.push([cells, r]); else out.push(cells);
      });
      if (folded.length) { /* in the place of its largest row, which is its first */
        const sum = function (k) { return folded.reduce(function (a, x) { return a + x[1][k]; }, 0); };
        const at = out.findIndex(function (c) { return c[0] > folded[0][0][0]; });
        const head = ['\u25b8', '[start-up and imports]', folded.length + ' sites', size(sum('size'))]
          .concat(ret ? [''] : [], [count(sum('count')), '']);
        out.splice(at < 0 ? out.length : at, 0, { fold: head, rows: folded.map(function (x) { return x[0]; }) });
      }
      return out;
    },
    ret ? [1, 0, 0, 1, 1, 1, 1] : [1, 0, 0, 1, 1, 1]);
  if (data.top_types) /* Python objects by type (PYTYPES); blocks of no object as "[no object]" */
    filtered('types', function () { return 'Python objects by type (live)'; },
      ['#', 'type', 'size', 'count', 'average'],
      function () { return data.top_types.map(function (r, i) { return [i + 1, r.type, size(r.size), count(r.count), avg(r)]; }); },
      [1, 0, 1, 1, 1]);
  if (data.top_collected) /* Python: objects the cycle collector freed per site (PYGCFREED) */
    filtered('collected', function () { return 'Freed by the cycle collector (over the run)'; },
      ['#', 'site', 'objects', 'size'],
      function () { return data.top_collected.map(function (r, i) { return [i + 1, r.site, count(r.count), size(r.size)]; }); },
      [1, 0, 1, 1]);
  if (data.diff) {
    const d = filtered('diff', function () { return 'Diff: earliest \u2192 latest snapshot'; },
      ['#', 'site', 'function', 'size', '\u0394 size', 'count', '\u0394 count'],
      function () {
        return (view.py && view.fold && data.diff.rows_folded ? data.diff.rows_folded
          : view.py || !data.diff.rows_native ? data.diff.rows : data.diff.rows_native).map(function (r, i) {
          return [i + 1, site(r), r.func, size(r.size), size(r.size_diff, 1), count(r.count),
            (r.count_diff >= 0 ? '+' : '') + count(r.count_diff)];
        });
      }, [1, 0, 0, 1, 1, 1, 1]);
    d.insertBefore(el('p', 'sub', data.diff.old + ' \u2192 ' + data.diff.new), d.children[1]);
  }

  /* --- callers and callees, sizes ----------------------------------------------- */

  const pickCall = heapsnapCalls({ data: data, view: view, onView: onView, eachStack: eachStack,
    vi: function () { return view.peak ? I_PEAK_B : I_LIVE_B; }, el: el, size: size, section: section,
    navlink: navlink }); /* calls.js */
  onPick = function (f) { if (f >= 0) pickCall(f); }; /* a click in the flame graph picks its function */
  heapsnapSizes({ data: data, el: el, size: size, count: count, section: section, navlink: navlink }); /* sizes.js */

  /* --- leaks -------------------------------------------------------------------------- */

  heapsnapLeaks({ data: data, view: view, onView: onView, el: el, svg: svg, count: count, table: table,
    tree: tree, section: section, navlink: navlink }); /* leaks.js */
  if (data.python_retainers) {
    navlink('pyholders', 'Python holders');
    section('pyholders', 'Who holds the Python objects').append(tree(data.python_retainers, 'retainers'));
  }
  /* The view the page opens on: the peak when captured (file.html#exit:
   * at exit), Python frames only for a Python process. */
  if (hasPeak && !hashView.includes('exit') && !hashView.includes('live')) {
    markPeak();
    setView(true, view.py);
  } else {
    setView(false, view.py);
  }
  document.body.dataset.drawnMs = String(Math.round(performance.now()));
  document.body.dataset.ready = '1';
})();
