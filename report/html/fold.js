/*
 * fold.js - folding a Python process's start-up and import machinery out
 * of its stacks, for page.js (heapsnapFold; written before it in the
 * page's one script by html_page).  Memray hides its import-system frames
 * the same way; the page's "Fold start-up and imports" checkbox, on at
 * load for a Python process, and page.html#all-frames turn it off.
 */
'use strict';
/* heapsnapFold(frames, isPy): adds the two synthetic frames to frames and
 * returns fold(stack, py), the stack (frame indexes, outermost first)
 * folded; py: Python frames only (the page's view.py). */
function heapsnapFold(frames, isPy) {
  /* The frames of <frozen importlib._bootstrap(_external)> go, and so do the C frames
   * above the first Python frame (_start, Py_BytesMain, pymain_run_python),
   * so an import's memory is charged to the importing line and the module's
   * own code (a stack in the finders keeps its innermost program frame,
   * the import line).  A stack left with no frame of its own keeps one
   * synthetic node rather than vanishing, so the totals stay whole: "[import
   * machinery]" when all its Python frames are importlib's, under
   * "[interpreter start-up]", which stands above what the interpreter did
   * before the program's first line (a stack whose outermost Python frame is
   * importlib's, as site and encodings are imported, or a stack with no
   * Python frame through Py_InitializeFromConfig and its kin, or through the
   * main entry alone: sys.path's first entry, the main file's compilation). */
  const isImp = function (fi) { return frames[fi][1].startsWith('<frozen importlib._bootstrap'); };
  const startC = /^(Py_Initialize|_Py_InitializeMain|pyinit_|pymain_|Py_BytesMain$|Py_Main$|Py_RunMain$)/;
  const F_IMP = frames.push(['[import machinery]', '', 0, 'folded']) - 1;
  const F_START = frames.push(['[interpreter start-up]', '', 0, 'folded']) - 1;
  function fold(full, py) {
    const firstPy = full.findIndex(isPy);
    let kept, start;
    if (firstPy >= 0) {
      start = isImp(full[firstPy]);
      kept = full.slice(firstPy).filter(function (f) { return !isImp(f) && (!py || isPy(f)); });
      if (!kept.some(isPy)) {
        const lastImp = full.length - 1 - full.slice().reverse().findIndex(isImp);
        kept = (py ? [] : full.slice(lastImp + 1)).filter(function (f) { return !isPy(f); });
        kept.unshift(F_IMP);
      }
    } else {
      let k = -1;
      full.forEach(function (f, i) { if (startC.test(frames[f][0])) k = i; });
      start = k >= 0;
      kept = start ? (py ? [] : full.slice(k + 1)) : full.slice();
    }
    if (start) kept.unshift(F_START);
    return kept;
  }
  return fold;
}
