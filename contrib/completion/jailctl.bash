# bash completion for jailctl(8): verbs and options come from `jailctl --help` itself (so they
# cannot drift from the binary), jail names from `jailctl status --names` (the registry only).
# Installed as share/bash-completion/completions/jailctl.

# The words of the line that are global options with their values, to pass on (--root DIR).
_jailctl_globals() {
  local i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      --root | --log-dir) printf '%s\n%s\n' "${COMP_WORDS[i]}" "${COMP_WORDS[i + 1]}" ;;
      --root=* | --log-dir=*) printf '%s\n' "${COMP_WORDS[i]}" ;;
    esac
  done
}

# Subcommand names listed under "Subcommands:" of a --help text.
_jailctl_help_verbs() {
  sed -n '/^Subcommands:/,/^$/{/^  [a-z]/{s/^  \([a-z][a-z-]*\).*/\1/;p}}'
}

# Options (long, and short ones like -U) of a --help text.
_jailctl_help_options() {
  grep -oE '^ +(-[A-Za-z],)?--[a-z][a-z-]*' | tr ',' '\n' | tr -d ' '
}

_jailctl() {
  local cur prev
  COMPREPLY=()
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD - 1]}
  local jailctl=${COMP_WORDS[0]}
  local -a globals
  mapfile -t globals < <(_jailctl_globals)

  # the verb (and its sub-verb: host check, ...): the first words that are not options or
  # an option's value
  local -a operands=()
  local i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    case $w in
      --root | --log-dir | --uplink) ((i++)); continue ;;
      -*) continue ;;
    esac
    operands+=("$w")
  done
  local verb=${operands[0]:-} sub='' verb_help=''
  if [ -n "$verb" ]; then
    verb_help=$("$jailctl" "$verb" --help 2>/dev/null)
    if [ -n "$(_jailctl_help_verbs <<<"$verb_help")" ]; then
      sub=${operands[1]:-}
      if [ -z "$sub" ] && [[ $cur != -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_jailctl_help_verbs <<<"$verb_help")" -- "$cur")
        return
      fi
      operands=("${operands[@]:1}")
      # a sub-verb with verbs of its own (cluster pool add)
      local sub_help
      sub_help=$("$jailctl" "$verb" "$sub" --help 2>/dev/null)
      if [ -n "$(_jailctl_help_verbs <<<"$sub_help")" ]; then
        if [ -z "${operands[1]:-}" ] && [[ $cur != -* ]]; then
          mapfile -t COMPREPLY < <(compgen -W "$(_jailctl_help_verbs <<<"$sub_help")" -- "$cur")
          return
        fi
        sub="$sub ${operands[1]:-}"
        operands=("${operands[@]:1}")
      fi
    fi
  fi

  case $prev in
    --root | --log-dir | --from | --output | --tls-cert | --tls-key)
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      return ;;
    --uplink)
      mapfile -t COMPREPLY < <(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur")
      return ;;
    --ip | --size | --memory | --cpus | --pids | --jobs | --timeout | --ftp-tls | --profile | --domain | -U | --user | --days)
      [ "$prev" = --ftp-tls ] && mapfile -t COMPREPLY < <(compgen -W "required optional" -- "$cur")
      [ "$prev" = --profile ] && mapfile -t COMPREPLY < <(compgen -W "static php" -- "$cur")
      return ;;
  esac

  if [ -z "$verb" ]; then
    if [[ $cur == -* ]]; then
      mapfile -t COMPREPLY < <(compgen -W "$("$jailctl" --help 2>/dev/null | _jailctl_help_options)" -- "$cur")
    else
      mapfile -t COMPREPLY < <(compgen -W "$("$jailctl" --help 2>/dev/null | _jailctl_help_verbs)" -- "$cur")
    fi
    return
  fi
  if [[ $cur == -* ]]; then
    # the verb's own options and the global ones (accepted after the verb too)
    local opts
    opts="$({ "$jailctl" $verb $sub --help; "$jailctl" --help; } 2>/dev/null | _jailctl_help_options | sort -u)"
    mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
    return
  fi
  case $verb in
    restore | import)
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      return ;;
    export)  # export DOMAIN FILE
      if ((${#operands[@]} >= 2)); then mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return; fi ;;
    clone)  # clone SRC DST: DST is a new domain
      ((${#operands[@]} >= 2)) && return ;;
    create | import-site) return ;;  # a new domain
  esac
  # jail names where the verb takes existing jails (its positional is domain, domains or src)
  grep -qE '^  (domain|domains|src) ' <<<"$verb_help" || return 0
  mapfile -t COMPREPLY < <(compgen -W "$("$jailctl" "${globals[@]}" status --names 2>/dev/null)" -- "$cur")
}

complete -F _jailctl jailctl
