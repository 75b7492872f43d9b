# bash completion for heapsnap (installed as
# $(PREFIX)/share/bash-completion/completions/heapsnap).  The commands and
# each command's options are read from heapsnap's own --help texts, so the
# completion never disagrees with the program; snapshots complete *.hsnap.
_heapsnap()
{
    local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]:-} i
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "$("$1" --help 2>/dev/null | sed -n 's/^  \([a-z]*\)  .*/\1/p') help --help --version" -- "$cur"))
        return
    fi
    if [ "$cmd" = help ]; then
        COMPREPLY=($(compgen -W "$("$1" --help 2>/dev/null | sed -n 's/^  \([a-z]*\)  .*/\1/p')" -- "$cur"))
        return
    fi
    if [ "$cmd" = run ]; then # after CMD, complete CMD's words as commands and files
        for ((i = 2; i < COMP_CWORD; i++)); do
            [ "${COMP_WORDS[i]}" = -- ] && { COMPREPLY=($(compgen -c -f -- "$cur")); return; }
        done
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$("$1" "$cmd" --help 2>/dev/null | grep -o -- '--[a-z][a-z-]*' | sort -u)" -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -f -X '!*.hsnap' -- "$cur") $(compgen -d -- "$cur"))
}
complete -o filenames -F _heapsnap heapsnap
