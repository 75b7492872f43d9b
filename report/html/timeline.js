/*
 * timeline.js - the HTML report's memory over time (heapsnapTimeline;
 * written before page.js in the page's one script by html_page, and called
 * by it in the page's order of sections): an SVG chart of the series
 * prof_build makes, the traced heap of each process and, where the shim
 * recorded them (SITELINE), its resident set and its largest sites, as
 * steps; the snapshots as dots, each process's traced peak as a line and
 * the peak it captured as a dot that opens the flame graph at the peak.
 * "Go to peak" (or the address #peak) selects the highest heap point; a
 * click on the chart selects the time under it; the readout lists every
 * series' value there.  Legend entries hide or show their line.
 */
'use strict';
/* heapsnapTimeline(page): draws the section; page holds the page's data,
 * its view, setView, hashView (the address's #fragment tokens), the flame
 * graph's section (flame) and the page's helpers (el, svg, size, count,
 * section, navlink).  Returns markPeak(): selects and marks the highest
 * heap point, when there is one. */
function heapsnapTimeline(page) {
  const data = page.data, view = page.view, setView = page.setView, hashView = page.hashView;
  const el = page.el, svg = page.svg, size = page.size, count = page.count;
  const section = page.section, navlink = page.navlink;
  navlink('timeline', 'Timeline');
  const tsec = section('timeline', 'Memory over time');
  const W = 1000, H = 300, L = 80, R = 20, T = 14, B = 34;
  const chart = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'tl', role: 'img' });
  let tmax = 1, vmax = 1; /* the axes' ends: each rounded up to a tick below */
  for (const s of data.series) s.t.forEach(function (t, i) { tmax = Math.max(tmax, t); vmax = Math.max(vmax, s.v[i]); });
  for (const s of data.snapshots) vmax = Math.max(vmax, s.peak);
  /* Round ticks, about four to an axis, which ends at the next tick: time
   * in steps of 1, 2 or 5 times a power of ten seconds; bytes in steps of a
   * power of two (256 KiB, 512 KiB, 1 MiB: a 1 MiB block sits on a line),
   * labelled in the largest unit (B, KiB, MiB...) that the step is a whole
   * multiple of, so every label is a whole number of one unit. */
  function niceStep(max) {
    const raw = max / 4, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
  }
  const vunits = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  const vstep = Math.pow(2, Math.max(0, Math.ceil(Math.log2(vmax / 4)))), tstep = niceStep(tmax);
  let vu = 0;
  while (vu < vunits.length - 1 && vstep >= Math.pow(1024, vu + 1)) vu++;
  const vunit = Math.pow(1024, vu);
  vmax = Math.ceil(vmax / vstep) * vstep;
  tmax = Math.ceil(tmax / tstep) * tstep;
  const tdigits = Math.max(0, -Math.floor(Math.log10(tstep / 1000) + 1e-9));
  const X = function (t) { return L + (W - L - R) * t / tmax; };
  const Y = function (v) { return H - B - (H - T - B) * v / vmax; };
  for (let i = 0; i * vstep <= vmax + vstep / 2; i++)
    chart.append(svg('line', { x1: L, x2: W - R, y1: Y(i * vstep), y2: Y(i * vstep), class: 'grid' }),
      svg('text', { x: L - 6, y: Y(i * vstep) + 4, 'text-anchor': 'end', class: 'tick-v' },
        String(i * vstep / vunit) + ' ' + vunits[vu]));
  for (let i = 0; i * tstep <= tmax + tstep / 2; i++)
    chart.append(svg('text', { x: X(i * tstep), y: H - 12, 'text-anchor': 'middle', class: 'tick-t' },
      (i * tstep / 1000).toFixed(tdigits) + ' s'));
  const colors = ['#d9480f', '#1971c2', '#2f9e44', '#9c36b5', '#e67700', '#0c8599'];
  /* the resident set in colours of its own, apart from the heap's and the sites' */
  const rssColors = ['#343a40', '#74b816', '#f06595', '#1098ad', '#ae3ec9', '#fab005'];
  const siteColors = ['#5c940d', '#862e9c', '#0b7285', '#c2255c', '#5f3dc4', '#a61e4d', '#364fc7', '#087f5b'];
  const seriesText = { heap: 'traced heap', rss: 'RSS', site: 'site' };
  const legend = el('div', 'legend');
  let nsite = 0;
  const layer = { site: svg('g', {}), rss: svg('g', {}), heap: svg('g', {}) }; /* the heap on top */
  chart.append(layer.site, layer.rss, layer.heap);
  const lines = data.series.map(function (s) {
    const c = s.kind === 'site' ? siteColors[nsite++ % siteColors.length]
      : s.kind === 'rss' ? rssColors[s.proc % rssColors.length] : colors[s.proc % colors.length];
    /* Steps: a value holds until the next point (as the readout reads it,
     * at()), so a stretch without points (a program that stopped
     * allocating) is flat, not a slope no one measured. */
    const pts = [];
    s.t.forEach(function (t, i) {
      if (i) pts.push(X(t).toFixed(1) + ',' + Y(s.v[i - 1]).toFixed(1));
      pts.push(X(t).toFixed(1) + ',' + Y(s.v[i]).toFixed(1));
    });
    const line = svg('polyline', { points: pts.join(' '), class: 'series', stroke: c, 'data-kind': s.kind });
    (layer[s.kind] || layer.heap).append(line);
    const key = el('span', 'key', s.label + ' (' + (seriesText[s.kind] || s.kind) + ')');
    key.style.borderColor = c;
    key.dataset.kind = s.kind;
    key.title = 'click to hide or show';
    key.addEventListener('click', function () { key.classList.toggle('off'); line.classList.toggle('off'); });
    legend.append(key);
    return c;
  });
  const peaks = {};
  for (const s of data.snapshots) peaks[s.series] = Math.max(peaks[s.series] || 0, s.peak);
  Object.keys(peaks).forEach(function (k) {
    const c = colors[k % colors.length];
    chart.append(svg('line', { x1: L, x2: W - R, y1: Y(peaks[k]), y2: Y(peaks[k]), stroke: c, class: 'peak' }),
      svg('text', { x: W - R, y: Y(peaks[k]) - 4, 'text-anchor': 'end', fill: c }, 'traced peak ' + size(peaks[k])));
  });
  /* The peak each snapshot captured (the largest per process): one click
   * shows what each site held then in the flame graph. */
  const held = {};
  for (const s of data.snapshots)
    if (s.peak_held !== undefined && (!held[s.series] || s.peak_held > held[s.series].peak_held)) held[s.series] = s;
  Object.keys(held).forEach(function (k) {
    const s = held[k];
    const dot = svg('circle', { cx: X(s.peak_t), cy: Y(s.peak_held), r: 7, class: 'peak-dot', fill: colors[k % colors.length] });
    dot.append(svg('title', {}, 'the peak: ' + size(s.peak_held) + ' at ' + (s.peak_t / 1000).toFixed(3) +
      ' s \u2014 click to see it in the flame graph'));
    dot.addEventListener('click', function () {
      setView(true, view.py);
      page.flame.scrollIntoView();
    });
    chart.append(dot);
  });
  for (const s of data.snapshots) {
    const dot = svg('circle', { cx: X(s.t), cy: Y(s.bytes), r: 5, class: 'snap', fill: colors[s.series % colors.length] });
    dot.append(svg('title', {}, s.path + ': ' + size(s.bytes) + ' in ' + count(s.blocks) + ' blocks at ' + (s.t / 1000).toFixed(3) + ' s'));
    chart.append(dot);
  }
  const cursor = svg('line', { y1: T, y2: H - B, class: 'cursor', visibility: 'hidden' });
  const mark = svg('circle', { r: 7, class: 'peak-mark', visibility: 'hidden' });
  chart.append(cursor, mark);
  const readout = el('div', 'readout');
  /* A series' value at time t: its last point at or before t (0 before its first). */
  function at(s, t) {
    let lo = 0, hi = s.t.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (s.t[mid] <= t) lo = mid + 1; else hi = mid; }
    return lo ? s.v[lo - 1] : 0;
  }
  function select(t, why) {
    cursor.setAttribute('x1', X(t));
    cursor.setAttribute('x2', X(t));
    cursor.setAttribute('visibility', 'visible');
    readout.textContent = '';
    readout.dataset.t = String(t);
    readout.append(el('b', '', (t / 1000).toFixed(3) + ' s' + (why ? ' \u2014 ' + why : '')));
    const ul = el('ul');
    data.series.forEach(function (s, k) {
      const li = el('li', '', s.label + ' (' + (seriesText[s.kind] || s.kind) + '): ' + size(at(s, t)));
      li.style.borderColor = lines[k];
      li.dataset.kind = s.kind;
      ul.append(li);
    });
    readout.append(ul);
  }
  let peak = null; /* the highest point of any heap series */
  for (const s of data.series) {
    if (s.kind !== 'heap') continue;
    s.t.forEach(function (t, i) { if (!peak || s.v[i] > peak.v) peak = { t: t, v: s.v[i] }; });
  }
  const goPeak = el('button', 'go-peak', 'Go to peak');
  goPeak.disabled = !peak;
  function markPeak() {
    select(peak.t, 'peak: traced heap ' + size(peak.v));
    mark.setAttribute('cx', X(peak.t));
    mark.setAttribute('cy', Y(peak.v));
    mark.setAttribute('visibility', 'visible');
  }
  goPeak.addEventListener('click', function () {
    markPeak();
    setView(true, view.py); /* the flame graph shows what each site held then */
    tsec.scrollIntoView();
  });
  chart.addEventListener('click', function (e) {
    const r = chart.getBoundingClientRect();
    const x = (e.clientX - r.left) * W / r.width;
    select(Math.max(0, Math.min(tmax, (x - L) / (W - L - R) * tmax)), '');
  });
  const nsl = data.series.filter(function (s) { return s.kind !== 'heap'; }).length;
  tsec.append(el('div', 'controls', goPeak), chart, legend, readout, el('p', 'hint', 'Dots are the snapshots (hover for their path); ' +
    'the lines are the traced heap each process recorded between them (a line holds each value until the next point: ' +
    'points come as the program allocates' + (nsl ? ' and from a sampler (HEAPSNAP_SITELINE, 0.1 s)' : '') +
    ', so a fall shows at the first point after it)' + (nsl ? ', its resident set (dashed) and its largest ' +
    'allocation sites (thin; 0 where a site was not among a point\'s largest)' : ' (the snapshots hold no resident set or ' +
    'sites: written with HEAPSNAP_SITELINE=0 or by an older heapsnap)') + '. Click the chart to read the values at a time; ' +
    'click a legend entry to hide or show its line.' + (Object.keys(held).length ? ' The big dot is the ' +
    'peak each process captured: click it to see what each site held then in the flame graph.' : '')));
  if (hashView.includes('peak') && peak) goPeak.click();
  return function () { if (peak) markPeak(); };
}
