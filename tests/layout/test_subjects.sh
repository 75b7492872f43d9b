# test_subjects.sh - commit subjects a reader can scan: every commit after
# the base scripts/subjects.sh records has a subject of at most 72
# characters (the older history stays as it is); and the check itself, on
# a small history of known subjects, and as the commit-msg hook.
out=$(scripts/subjects.sh 2>&1); rc=$?
case $rc in
  0) t_pass commit_subjects_after_the_base_at_most_72 ;;
  2) t_skip commit_subjects_after_the_base_at_most_72 "$(echo "$out" | tail -1)" ;;
  *) t_fail commit_subjects_after_the_base_at_most_72 "$(echo "$out" | head -5 | tr '\n' ' ' | head -c 400)" ;;
esac

# A history: base, then a subject of 72 characters (kept), one of 73 (named),
# and one of 72 characters that are not all ASCII (counted as characters).
script=$PWD/scripts/subjects.sh
s72=$(printf 'a%.0s' $(seq 72)); s73=$(printf 'b%.0s' $(seq 73)); u72="é$(printf 'c%.0s' $(seq 71))"
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t
mkdir -p "$T/h" && cd "$T/h" && git init -q . &&
  git commit -q --allow-empty -m "a base subject that is too long to keep, but before the base, so it is left as it is" &&
  base=$(git rev-parse HEAD) &&
  git commit -q --allow-empty -m "$s72" && git commit -q --allow-empty -m "$s73" &&
  git commit -q --allow-empty -m "$u72"
out=$("$script" "$base" 2>&1); rc=$?
cd - >/dev/null
if [ "$rc" = 1 ] && echo "$out" | grep -q ": 73 characters: $s73\$" &&
   echo "$out" | grep -q '^subjects: 3 commits after .*, 1 over 72 characters$'; then
  t_pass subjects_check_names_a_subject_over_72_after_the_base
else t_fail subjects_check_names_a_subject_over_72_after_the_base "exit $rc: $(echo "$out" | tr '\n' ' ' | head -c 300)"; fi

# The hook: the first line that is not a comment is the subject.
printf '# Please enter the commit message\n%s\n\nA body line longer than seventy-two characters is fine in the body, always.\n' "$s72" >"$T/ok.msg"
printf '%s\n' "$s73" >"$T/long.msg"
if scripts/commit-msg "$T/ok.msg" 2>"$T/hook.err" && ! scripts/commit-msg "$T/long.msg" 2>"$T/hook.err" &&
   grep -q 'commit subject of 73 characters, at most 72' "$T/hook.err"; then
  t_pass commit_msg_hook_refuses_a_subject_over_72
else t_fail commit_msg_hook_refuses_a_subject_over_72 "$(head -c 300 "$T/hook.err")"; fi
