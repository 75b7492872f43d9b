# test_html_unfold.sh - `heapsnap html --unfold` writes a page that opens
# with every frame (the page's data says all_frames, which fold.js reads),
# `--all-frames` is still accepted for it (its first name; top's
# --all-frames means filters match any frame, another thing), the default
# page folds, and the help names --unfold.  No browser: the page's data.
"$HEAPSNAP" run -q -o "$T/s.hsnap" -- /bin/true 2>"$T/run.err" ||
  { t_fail html_unfold_snapshot "$(head -c 300 "$T/run.err")"; return 0; }
# page_flag NAME OPTIONS...: the page's all_frames, or the error
page_flag() {
  local name=$1; shift
  if "$HEAPSNAP" html "$@" -o "$T/$name.html" "$T/s.hsnap" 2>"$T/$name.err"; then
    grep -o '"all_frames":[a-z]*' "$T/$name.html" | head -1
  else echo "error: $(head -c 200 "$T/$name.err")"; fi
}
got=$(page_flag unfold --unfold)
[ "$got" = '"all_frames":true' ] && t_pass html_unfold_opens_with_every_frame ||
  t_fail html_unfold_opens_with_every_frame "$got"
got=$(page_flag alias --all-frames)
[ "$got" = '"all_frames":true' ] && t_pass html_all_frames_still_means_unfold ||
  t_fail html_all_frames_still_means_unfold "$got"
got=$(page_flag plain)
[ "$got" = '"all_frames":false' ] && t_pass html_default_page_folds ||
  t_fail html_default_page_folds "$got"
if "$HEAPSNAP" html --help | grep -q -- '--unfold  *open with start-up and imports unfolded'
then t_pass html_help_names_unfold
else t_fail html_help_names_unfold "$("$HEAPSNAP" html --help | grep -- -frames)"; fi
