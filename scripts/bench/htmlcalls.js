// scripts/bench/htmlcalls.js - the CPU time of the HTML report's callers and
// callees (report/html/calls.js's heapsnapCalls) on a page's data, under node
// with a stub DOM: the first draw (which flattens the view's stacks) and two
// redraws of the same view.  Its eachStack is page.js's, copied.  For a page
// of many stacks: scripts/bench/programs/htmlbig.c's snapshot through
// `heapsnap html` (scripts/html-bench.sh makes one).
// Usage: node scripts/bench/htmlcalls.js PAGE.html   (from the repository root)
const fs = require('fs');
const html = fs.readFileSync(process.argv[2], 'utf8');
const data = JSON.parse(html.match(/<script type="application\/json"[^>]*>([\s\S]*?)<\/script>/)[1]);
function E() { this.children = []; this.dataset = {}; this.style = {}; this.classList = { toggle() {}, contains() { return false; } }; }
E.prototype.append = function (...k) { this.children.push(...k); };
E.prototype.addEventListener = function () {};
E.prototype.replaceWith = function () {};
Object.defineProperty(E.prototype, 'textContent', { set() { this.children = []; } });
Object.defineProperty(E.prototype, 'lastChild', { get() { return this.children[this.children.length - 1] || new E(); } });
const el = function () { return new E(); };
eval(fs.readFileSync('report/html/fold.js', 'utf8') + fs.readFileSync('report/html/calls.js', 'utf8') + ';globalThis.heapsnapCalls = heapsnapCalls; globalThis.heapsnapFold = heapsnapFold;');
const isPy = function (fi) { return data.frames[fi][3] === '<python>'; };
const fold = heapsnapFold(data.frames, isPy);
const fkey = new Int32Array(data.frames.length); const seen = new Map();
data.frames.forEach(function (f, i) { const k = f[0] + '\0' + f[1] + '\0' + f[3]; if (!seen.has(k)) seen.set(k, i); fkey[i] = seen.get(k); });
function eachStack(how, cb) { // page.js's
  const full = [], out = [], id = how.lines ? function (f) { return f; } : function (f) { return fkey[f]; };
  for (const s of data.stacks) {
    full.length = s[0]; for (const f of s[1]) full.push(f);
    const kept = how.fold ? fold(full, how.py) : how.py && full.some(isPy) ? full.filter(isPy) : full;
    out.length = kept.length; for (let i = 0; i < kept.length; i++) out[i] = id(kept[i]);
    cb(out, s[2]);
  }
}
const onView = [];
const view = { py: !!data.python, fold: !!data.python, lines: false, peak: false };
heapsnapCalls({ data, view, onView, eachStack, vi: () => 3, el, size: String, section: el, navlink() {} });
for (let r = 0; r < 3; r++) {
  const c0 = process.cpuUsage(); onView[0](); const c = process.cpuUsage(c0);
  console.log('draw cpu ms', ((c.user + c.system) / 1000).toFixed(0), r === 0 ? '(first: flattens the stacks)' : '(view unchanged)');
}
