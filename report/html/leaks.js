/*
 * leaks.js - the HTML report's leak check section (heapsnapLeaks; written
 * before page.js in the page's one script by html_page, and called by it
 * in the page's order of sections): the summary by kind, the loss records
 * in the words of leaks' summary (direct, indirect, cycle, possibly lost), each with its stack (Python frames only, and
 * start-up and imports folded with heapsnapFold, as the page's
 * view says, redrawn when it changes), a cycle's blocks drawn as a ring,
 * and the retainers as a tree (page.js's tree).  Draws nothing when the snapshots hold no leak
 * check.
 */
'use strict';
/* heapsnapLeaks(page): page holds the page's data, its view and onView
 * (the functions setView calls), and the page's DOM helpers (el, svg,
 * count, table, tree, section, navlink). */
function heapsnapLeaks(page) {
  const data = page.data, view = page.view, el = page.el, svg = page.svg, count = page.count;
  const table = page.table, section = page.section, navlink = page.navlink, onView = page.onView;
  function ring(r, id) {
    const n = r.ring.length, more = r.ring_blocks - n, S = 260, C = S / 2, rad = 80;
    const g = svg('svg', { viewBox: '0 0 ' + S + ' ' + S, class: 'ring', role: 'img' });
    g.append(svg('defs', {}));
    g.firstChild.append(svg('marker', { id: 'arrow' + id, viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto' }));
    g.firstChild.firstChild.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#555' }));
    const pos = r.ring.map(function (_, i) {
      const a = -Math.PI / 2 + 2 * Math.PI * i / n;
      return [C + rad * Math.cos(a), C + rad * Math.sin(a)];
    });
    pos.forEach(function (p, i) {
      const q = pos[(i + 1) % n];
      const dx = q[0] - p[0], dy = q[1] - p[1], len = Math.hypot(dx, dy) || 1, k = 9 / len;
      if (n > 1) g.append(svg('line', { x1: p[0] + dx * k, y1: p[1] + dy * k, x2: q[0] - dx * k, y2: q[1] - dy * k, class: 'edge', 'marker-end': 'url(#arrow' + id + ')' }));
    });
    if (n === 1) g.append(svg('circle', { cx: pos[0][0], cy: pos[0][1] - 16, r: 14, class: 'self' }));
    pos.forEach(function (p, i) {
      g.append(svg('circle', { cx: p[0], cy: p[1], r: 8, class: 'node' }));
      g.append(svg('text', { x: p[0], y: p[1] + (p[1] >= C ? 22 : -14), 'text-anchor': 'middle' }, r.ring[i]));
    });
    if (more > 0) g.append(svg('text', { x: C, y: C + 4, 'text-anchor': 'middle' }, '+' + more + ' more'));
    return g;
  }
  /* the CLI's one vocabulary (leaks, run, gate): the summary's keys are its words already */
  const kindText = { direct: 'direct', indirect: 'indirect', cycle: 'cycle', possible: 'possibly lost', reachable: 'still reachable' };
  if (data.leaks) {
    navlink('leaks', 'Leaks');
    const ls = section('leaks', 'Leak check');
    ls.append(table(['kind', 'bytes', 'blocks'], Object.keys(data.leaks.summary).map(function (k) {
      return [k, count(data.leaks.summary[k][0]), count(data.leaks.summary[k][1])];
    }), [0, 1, 1]));
    const recs = el('div', 'records');
    data.leaks.records.forEach(function (r, i) {
      const bytes = r.indirect_bytes ? count(r.bytes + r.indirect_bytes) + ' (' + count(r.bytes) + ' ' + r.kind + ', ' + count(r.indirect_bytes) + ' indirect)' : count(r.bytes);
      const d = el('details', 'record ' + r.kind);
      d.append(el('summary', '', kindText[r.kind] + ': ' + bytes + ' bytes in ' + count(r.blocks) + ' blocks, loss record ' +
        (i + 1) + ' of ' + data.leaks.records.length + ' \u2014 ' + r.site));
      const ul = el('ol', 'stack');
      function frames() {
        ul.textContent = '';
        const py = view.py && r.stack.some(function (f) { return f[3] === '<python>'; });
        let st = r.stack;
        if (view.fold) { /* the stack from the site outward; heapsnapFold's, outermost first */
          const out = r.stack.slice().reverse(), n = out.length;
          const f = heapsnapFold(out, function (i) { return out[i][3] === '<python>'; });
          st = f(Array.from(out.keys()).slice(0, n), view.py).reverse().map(function (i) { return out[i]; });
        }
        for (const f of st)
          if (view.fold || !py || f[3] === '<python>') ul.append(el('li', '', f[0] + (f[1] ? ' (' + f[1] + ':' + f[2] + ')' : '')));
      }
      frames();
      onView.push(frames);
      d.append(ul);
      if (r.ring.length) {
        d.append(el('p', 'sub', 'cycle of ' + r.ring_blocks + ' blocks:'), ring(r, i));
        d.open = true;
      }
      recs.append(d);
    });
    ls.append(el('h3', '', 'Loss records'), recs);
    if (!data.leaks.records.length) recs.append(el('p', 'sub', 'no leaks'));
    if (data.leaks.retainers) {
      ls.append(el('h3', '', 'Who keeps the most memory alive (retainers)'), page.tree(data.leaks.retainers, 'retainers'));
    }
  }
}
