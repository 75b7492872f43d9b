/*
 * sizes.js - the HTML report's allocation-size histogram (heapsnapSizes;
 * written before page.js in the page's one script by html_page, and called
 * by it in the page's order of sections), as heaptrack's GUI has one: the
 * live blocks of the latest snapshots by power-of-two size class
 * (html_sizes' "sizes"), their count and their bytes, each drawn as a bar
 * beside the numbers.  Draws nothing when the snapshots hold no blocks.
 */
'use strict';
/* heapsnapSizes(page): page holds the page's data and the page's DOM
 * helpers (el, size, count, section, navlink). */
function heapsnapSizes(page) {
  const data = page.data, el = page.el, size = page.size, count = page.count;
  if (!data.sizes || !data.sizes.length) return;
  page.navlink('sizes', 'Allocation sizes');
  const sec = page.section('sizes', 'Allocation sizes (live blocks at the latest snapshot)');
  let maxn = 0, maxb = 0;
  for (const r of data.sizes) { maxn = Math.max(maxn, r[1]); maxb = Math.max(maxb, r[2]); }
  /* a class's bounds in the units size() uses: "512 B \u2013 1 KiB" */
  function bound(n) {
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let k = 0;
    while (k < u.length - 1 && n >= 1024) { n /= 1024; k++; }
    return n + ' ' + u[k];
  }
  function bar(v, max, cls) {
    const b = el('div', 'hbar ' + cls);
    b.style.width = (max ? Math.max(100 * v / max, 0.5) : 0).toFixed(1) + '%';
    return b;
  }
  const t = el('table', 'grid hist'), hr = el('tr');
  ['size', 'blocks', '', 'bytes', ''].forEach(function (h, i) { hr.append(el('th', i === 1 || i === 3 ? 'num' : '', h)); });
  t.append(el('thead', '', hr));
  const body = el('tbody');
  for (const r of data.sizes) {
    const tr = el('tr');
    tr.dataset.lo = String(r[0]);
    tr.append(el('td', '', r[0] ? bound(r[0]) + ' \u2013 ' + bound(r[0] * 2) : '0 B'),
      el('td', 'num', count(r[1])), el('td', 'hcell', bar(r[1], maxn, 'blocks')),
      el('td', 'num', size(r[2])), el('td', 'hcell', bar(r[2], maxb, 'bytes')));
    body.append(tr);
  }
  t.append(body);
  sec.append(el('p', 'hint', 'Each row is a class of sizes from its lower bound up to (not including) ' +
    'its upper one; the bars compare the classes\u2019 blocks and their bytes.'), t);
}
