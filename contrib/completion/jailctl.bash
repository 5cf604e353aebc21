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
  local cur prev words cword
  COMPREPLY=()
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD - 1]}
  local jailctl=${COMP_WORDS[0]}
  local -a globals
  mapfile -t globals < <(_jailctl_globals)

  # the verb: the first word that is not an option or an option's value
  local verb='' sub='' i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    case $w in
      --root | --log-dir | --uplink) ((i++)); continue ;;
      -*) continue ;;
    esac
    if [ -z "$verb" ]; then verb=$w; elif [ "$verb" = host ] && [ -z "$sub" ]; then sub=$w; fi
  done

  case $prev in
    --root | --log-dir | --from | --output)
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      return ;;
    --uplink)
      mapfile -t COMPREPLY < <(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur")
      return ;;
    --ip | --size | --memory | --cpus | --pids | --jobs | --timeout | --ftp-tls | --domain | -U | --user)
      [ "$prev" = --ftp-tls ] && mapfile -t COMPREPLY < <(compgen -W "required optional" -- "$cur")
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
  if [ "$verb" = host ] && [ -z "$sub" ]; then
    mapfile -t COMPREPLY < <(compgen -W "$("$jailctl" host --help 2>/dev/null | _jailctl_help_verbs)" -- "$cur")
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
    create | import-site | metrics | host) return ;;  # a new domain, or no operand
    restore | import)
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      return ;;
  esac
  # export DOMAIN FILE: the second operand is a file
  if [ "$verb" = export ]; then
    local operands=0
    for ((i = 1; i < COMP_CWORD; i++)); do
      [[ ${COMP_WORDS[i]} != -* && ${COMP_WORDS[i]} != "$verb" ]] && ((operands++))
    done
    if ((operands >= 1)); then mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return; fi
  fi
  mapfile -t COMPREPLY < <(compgen -W "$("$jailctl" "${globals[@]}" status --names 2>/dev/null)" -- "$cur")
}

complete -F _jailctl jailctl
