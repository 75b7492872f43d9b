# bash completion for heapsnap (installed as
# $(PREFIX)/share/bash-completion/completions/heapsnap).  The commands and
# each command's options are read from heapsnap's own --help texts, and the
# values of an option that takes one of a list (--key, --format, ...) from
# the program's own "bad value for OPT: '...' (a, b, c)" line, so the
# completion never disagrees with the program; snapshots complete *.hsnap.

# _heapsnap_values HEAPSNAP CMD OPT: the values OPT takes, one a line (the
# value given is refused before anything is read, run or written).
_heapsnap_values()
{
    "$1" "$2" "$3" $'\001' -- /nonexistent/heapsnap-completion 2>&1 >/dev/null </dev/null |
        sed -n "s/.*bad value for [^:]*: '[^']*' (\(.*\))\$/\1/p" |
        sed 's/^a comma list of //; s/,* or / /g; s/, / /g' | tr ' ' '\n' | grep -x '[a-z_][a-z_-]*'
}

_heapsnap()
{
    local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]:-} i
    local prev=${COMP_WORDS[COMP_CWORD-1]:-} pre=""
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
    if { [ "$cmd" = attach ] || [ "$cmd" = detach ] || [ "$cmd" = live ]; } && [[ $cur != -* ]] &&
       ! [[ $prev =~ ^(-o|--depth|--signal|--interval|--sample|--unwind|--duration)$ ]]; then # a pid
        COMPREPLY=($(compgen -W "$(ps -eo pid= 2>/dev/null)" -- "$cur"))
        return
    fi
    if [ "$prev" = = ] && [ "$COMP_CWORD" -gt 2 ]; then # --key=VALUE
        prev=${COMP_WORDS[COMP_CWORD-2]}
    fi
    case "$prev" in
    --key|-k|--format|-f|--value|--sort|--metric|--kinds|--unwind|--children|--kind|--fail-on|--python-fail-on)
        case "$prev" in --kinds|--fail-on|--python-fail-on) [[ $cur == *,* ]] && pre=${cur%,*}, ;; esac
        COMPREPLY=($(compgen -P "$pre" -W "$(_heapsnap_values "$1" "$cmd" "$prev")" -- "${cur##*,}"))
        return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$("$1" "$cmd" --help 2>/dev/null | grep -o -- '--[a-z][a-z-]*' | sort -u)" -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -f -X '!*.hsnap' -- "$cur") $(compgen -d -- "$cur"))
}
complete -o filenames -F _heapsnap heapsnap
